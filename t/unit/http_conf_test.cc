// Configuration for several protocols: the http {} block beside rtmp {}, locations matched
// by longest prefix, modules keeping confs only in their own protocol's blocks, listeners
// carrying their protocol's factory, and nginx-style errors for the new directives.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/cycle.h"
#include "core/module_slots.h"
#include "http/http_core_module.h"
#include "modules/http_flv_module.h"
#include "modules/live_module.h"
#include "modules/stream_gate.h"
#include "rtmp/rtmp_core_module.h"

namespace strom {
std::span<Module* const> strom_modules();
}

using namespace strom;

namespace {

std::unique_ptr<Cycle> load(const std::string& text, std::string* err)
{
    return Cycle::load_string(strom_modules(), text, "/p/strom.conf", "/p/", err);
}

std::string error_of(const std::string& text)
{
    std::string err;
    auto c = load(text, &err);
    EXPECT_EQ(c, nullptr) << text;
    return err;
}

constexpr const char* kConf = R"(
rtmp { server { listen 127.0.0.1:19350; application live { live on; } } }
http {
    keepalive_timeout 5s;
    server {
        listen 127.0.0.1:18080;
        listen unix:/tmp/strom-http-test.sock;
        location / { flv_live on; add_header Access-Control-Allow-Origin *; }
        location /live/ { flv_live off; keepalive_timeout 1s; }
        location /live/special/ { }
    }
}
)";

TEST(HttpConf, LocationsMatchTheLongestPrefix)
{
    std::string err;
    auto c = load(kConf, &err);
    ASSERT_NE(c, nullptr) << err;
    const ProtoBlock* http = c->proto("http");
    ASSERT_NE(http, nullptr);
    ASSERT_EQ(http->servers.size(), 1u);
    const ServerBlock& srv = *http->servers[0];
    EXPECT_EQ(srv.find_prefix("/x.flv")->name, "/");
    EXPECT_EQ(srv.find_prefix("/live/x.flv")->name, "/live/");
    EXPECT_EQ(srv.find_prefix("/live/special/x.flv")->name, "/live/special/");
    EXPECT_EQ(srv.find_prefix("/livex")->name, "/");
    EXPECT_EQ(srv.find_prefix("nothing"), nullptr);
}

TEST(HttpConf, LocationsInheritAndOverride)
{
    std::string err;
    auto c = load(kConf, &err);
    ASSERT_NE(c, nullptr) << err;
    const ServerBlock& srv = *c->proto("http")->servers[0];
    const AppBlock& root = *srv.find_prefix("/");
    const AppBlock& live = *srv.find_prefix("/live/");
    const AppBlock& special = *srv.find_prefix("/live/special/");
    EXPECT_EQ(*http::http_conf(root).keepalive_timeout, 5000u);
    EXPECT_EQ(*http::http_conf(live).keepalive_timeout, 1000u);
    EXPECT_EQ(*http::http_conf(special).keepalive_timeout, 5000u);   // siblings: from the server
    EXPECT_TRUE(*root.conf<mod::HttpFlvConf>(mod::http_flv_module).flv_live);
    EXPECT_FALSE(*special.conf<mod::HttpFlvConf>(mod::http_flv_module).flv_live);
    ASSERT_EQ(http::http_conf(root).add_header->size(), 1u);
    EXPECT_EQ(http::http_conf(root).add_header->at(0).first, "Access-Control-Allow-Origin");
    EXPECT_TRUE(http::http_conf(live).add_header->empty());
    // every level knows the cycle's content handlers (flv_live, api, metrics, ...): the same list
    ASSERT_NE(http::http_conf(special).handlers, nullptr);
    ASSERT_NE(http::http_conf(root).handlers, nullptr);
    EXPECT_GE(http::http_conf(special).handlers->size(), 1u);
    EXPECT_EQ(http::http_conf(special).handlers, http::http_conf(root).handlers);
}

TEST(HttpConf, ModulesKeepConfsOnlyInTheirOwnProtocolsBlocks)
{
    std::string err;
    auto c = load(kConf, &err);
    ASSERT_NE(c, nullptr) << err;
    const ServerBlock& hs = *c->proto("http")->servers[0];
    const AppBlock& loc = *hs.apps[0];
    const AppBlock& app = *c->proto("rtmp")->servers[0]->apps[0];
    auto idx = [](const Module& m) { return size_t(m.index); };
    EXPECT_EQ(loc.confs[idx(mod::live_module)], nullptr);
    EXPECT_EQ(hs.confs[idx(rtmp::rtmp_core_module)], nullptr);
    EXPECT_NE(loc.confs[idx(http::http_core_module)], nullptr);
    EXPECT_EQ(app.confs[idx(http::http_core_module)], nullptr);
    EXPECT_EQ(app.confs[idx(mod::http_flv_module)], nullptr);
    EXPECT_NE(app.confs[idx(mod::live_module)], nullptr);
}

TEST(HttpConf, ListenersCarryTheirProtocolAndServer)
{
    std::string err;
    auto c = load(kConf, &err);
    ASSERT_NE(c, nullptr) << err;
    ASSERT_EQ(c->listens.size(), 3u);
    EXPECT_EQ(c->listens[0].server, c->proto("rtmp")->servers[0].get());
    EXPECT_EQ(c->listens[1].server, c->proto("http")->servers[0].get());
    EXPECT_EQ(c->listens[2].server, c->proto("http")->servers[0].get());
    EXPECT_NE(c->listens[0].proto, c->listens[1].proto);
    EXPECT_EQ(c->listens[1].proto, c->listens[2].proto);
    EXPECT_EQ(c->listens[2].addr.text, "unix:/tmp/strom-http-test.sock");
}

TEST(HttpConf, ErrorsNameTheDirectiveAndThePlace)
{
    EXPECT_EQ(error_of("http { server { location / { live on; } } }"),
              "\"live\" directive is not allowed here in /p/strom.conf:1");
    EXPECT_EQ(error_of("rtmp { server { application a { flv_live on; } } }"),
              "\"flv_live\" directive is not allowed here in /p/strom.conf:1");
    EXPECT_EQ(error_of("http { server { location live { } } }"),
              "\"location\" directive invalid value: \"live\", a location is a path prefix "
              "starting with \"/\" in /p/strom.conf:1");
    EXPECT_EQ(error_of("http { server { location / { } location / { } } }"),
              "duplicate location \"/\" in /p/strom.conf:1");
    EXPECT_EQ(error_of("rtmp { server { listen 127.0.0.1:8080; } }\n"
                       "http { server { listen 127.0.0.1:8080; } }"),
              "duplicate listen 127.0.0.1:8080 in /p/strom.conf:2");
    EXPECT_EQ(error_of("http { server { listen 8080 bogus; } }"),
              "\"listen\" directive invalid value: \"bogus\", it must be \"backlog=N\" or "
              "\"reuseport\" in /p/strom.conf:1");
    EXPECT_EQ(error_of("http { server { location / { flv_live maybe; } } }"),
              "\"flv_live\" directive invalid value: \"maybe\", it must be \"on\" or \"off\" in "
              "/p/strom.conf:1");
    EXPECT_EQ(error_of("http { large_client_header_buffers 4 10; }"),
              "\"large_client_header_buffers\" directive invalid value: \"10\", it must be 256 "
              "to 1m in /p/strom.conf:1");
    EXPECT_EQ(error_of("http { add_header \"Bad Name\" x; }"),
              "\"add_header\" directive invalid value: \"Bad Name\", it must be a header name in "
              "/p/strom.conf:1");
    EXPECT_EQ(error_of("http { } http { }"), "\"http\" directive is duplicate in /p/strom.conf:1");
    EXPECT_EQ(error_of("http { location / { } }"),
              "\"location\" directive is not allowed here in /p/strom.conf:1");
}

TEST(HttpConf, NoHttpBlockMeansNoHttpListeners)
{
    std::string err;
    auto c = load("rtmp { server { listen 127.0.0.1:19350; } }", &err);
    ASSERT_NE(c, nullptr) << err;
    EXPECT_FALSE(c->proto("http")->present());
    EXPECT_TRUE(c->proto("http")->servers.empty());
    EXPECT_EQ(c->listens.size(), 1u);
}

struct Dummy final : Module {
    const char* name() const override { return "dummy"; }
};

TEST(ModuleSlots, TypedSlotsPerModuleAndALoadTimeBound)
{
    Dummy many[kMaxModules + 1];
    std::vector<Module*> list;
    for (Dummy& d : many) list.push_back(&d);
    std::string err;
    EXPECT_EQ(Cycle::load_string(list, "", "/p/s.conf", "/p/", &err), nullptr);
    EXPECT_EQ(err, "33 modules, more than the 32 context slots");
    list.pop_back();
    auto c = Cycle::load_string(list, "", "/p/s.conf", "/p/", &err);
    ASSERT_NE(c, nullptr) << err;
    ModuleSlots slots;
    int x = 7;
    slots.set(many[31], &x);
    EXPECT_EQ(slots.get<int>(many[31]), &x);
    EXPECT_EQ(slots.get<int>(many[0]), nullptr);
    slots.clear();
    EXPECT_EQ(slots.get<int>(many[31]), nullptr);
    Dummy unloaded;
    EXPECT_DEATH(slots.raw(unloaded), "has no context slot");
}

}  // namespace

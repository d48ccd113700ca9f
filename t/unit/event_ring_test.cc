#include "modules/event_ring.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "modules/events_module.h"
#include "modules/stats_board.h"

using strom::mod::ActivityEvent;
using strom::mod::EventRing;
using strom::mod::set_text;

namespace {

ActivityEvent event(const char* type, const char* stream, int64_t time_ms = 0)
{
    ActivityEvent e{};
    set_text(e.type, type);
    set_text(e.stream, stream);
    e.time_ms = time_ms;
    return e;
}

}  // namespace

TEST(EventRing, ReadsEventsAfterSinceInOrderWithNext)
{
    EventRing* r = EventRing::create();
    EXPECT_EQ(r->append(event("publish", "a")), 1u);
    EXPECT_EQ(r->append(event("play", "a")), 2u);
    EXPECT_EQ(r->append(event("stop", "a")), 3u);
    EventRing::Batch b;
    r->read(1, 100, &b);
    ASSERT_EQ(b.events.size(), 2u);
    EXPECT_EQ(b.events[0].id, 2u);
    EXPECT_STREQ(b.events[0].type, "play");
    EXPECT_EQ(b.events[1].id, 3u);
    EXPECT_GT(b.events[1].time_ms, 0);
    EXPECT_EQ(b.next, 3u);
    EXPECT_EQ(b.lost, 0u);
    r->read(3, 100, &b);
    EXPECT_TRUE(b.events.empty());
    EXPECT_EQ(b.next, 3u);
}

TEST(EventRing, LimitCutsTheBatchAndNextResumesIt)
{
    EventRing* r = EventRing::create();
    for (int i = 0; i < 10; ++i) (void)r->append(event("play", "s"));
    EventRing::Batch b;
    r->read(0, 4, &b);
    ASSERT_EQ(b.events.size(), 4u);
    EXPECT_EQ(b.next, 4u);
    r->read(b.next, 100, &b);
    ASSERT_EQ(b.events.size(), 6u);
    EXPECT_EQ(b.events.front().id, 5u);
    EXPECT_EQ(b.next, 10u);
}

TEST(EventRing, WrapsAroundAndCountsWhatSinceMissed)
{
    EventRing* r = EventRing::create();
    const uint64_t n = EventRing::kEntries + 100;
    for (uint64_t i = 0; i < n; ++i) (void)r->append(event("play", std::to_string(i).c_str()));
    EventRing::Batch b;
    r->read(0, EventRing::kEntries + 10, &b);
    EXPECT_EQ(b.lost, 100u);  // ids 1..100 were overwritten
    ASSERT_EQ(b.events.size(), EventRing::kEntries);
    EXPECT_EQ(b.events.front().id, 101u);
    EXPECT_STREQ(b.events.front().stream, "100");
    EXPECT_EQ(b.events.back().id, n);
    EXPECT_EQ(b.next, n);
    for (size_t i = 1; i < b.events.size(); ++i) EXPECT_EQ(b.events[i].id, b.events[i - 1].id + 1);
    r->read(n - 1, 10, &b);  // a recent since loses nothing
    EXPECT_EQ(b.lost, 0u);
    ASSERT_EQ(b.events.size(), 1u);
}

TEST(EventRing, SinceBeyondTheLastIdStartsFromNow)
{
    EventRing* r = EventRing::create();
    (void)r->append(event("play", "a"));
    EventRing::Batch b;
    r->read(99, 10, &b);
    EXPECT_TRUE(b.events.empty());
    EXPECT_EQ(b.next, 1u);
}

TEST(EventRing, WaitsForAnAppendInFlight)
{
    EventRing* r = EventRing::create();
    (void)r->append(event("publish", "a"));
    uint64_t id = r->begin_append(event("play", "a"));  // another worker is copying it
    (void)r->append(event("stop", "a"));
    EventRing::Batch b;
    r->read(0, 10, &b);
    ASSERT_EQ(b.events.size(), 1u);  // stops before it rather than skip it
    EXPECT_EQ(b.next, 1u);
    EXPECT_EQ(b.lost, 0u);
    r->end_append(id);
    r->read(b.next, 10, &b);
    ASSERT_EQ(b.events.size(), 2u);
    EXPECT_STREQ(b.events[0].type, "play");
    EXPECT_STREQ(b.events[1].type, "stop");
}

TEST(EventRing, SkipsATornEntryWhoseWriterDied)
{
    EventRing* r = EventRing::create();
    (void)r->append(event("publish", "a"));
    (void)r->begin_append(event("play", "a"));  // the writer died inside the copy
    int64_t old = strom::mod::unix_ms() - 5000;
    (void)r->append(event("stop", "a", old));  // a later event, long finished
    EventRing::Batch b;
    r->read(0, 10, &b);
    ASSERT_EQ(b.events.size(), 2u);
    EXPECT_STREQ(b.events[0].type, "publish");
    EXPECT_STREQ(b.events[1].type, "stop");
    EXPECT_EQ(b.lost, 1u);
    EXPECT_EQ(b.next, 3u);
}

TEST(EventRing, AnOverwrittenEntryIsNotReadAsItsOldId)
{
    EventRing* r = EventRing::create();
    for (uint64_t i = 0; i < EventRing::kEntries; ++i) (void)r->append(event("play", "old"));
    EventRing::Batch b;
    r->read(0, 1, &b);  // id 1 is still held
    ASSERT_EQ(b.events.size(), 1u);
    (void)r->append(event("stop", "new"));  // id kEntries+1 takes id 1's entry
    r->read(0, 1, &b);
    EXPECT_EQ(b.lost, 1u);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].id, 2u);
}

TEST(EventsAnswer, ListsSinceWithNextLastAndLost)
{
    EventRing* r = EventRing::create();
    (void)r->append(event("publish", "a", 1764780312345));
    (void)r->append(event("play", "a", 1764780312400));
    int status = 0;
    std::string body = strom::mod::events_answer(*r, "since=1&limit=5", &status);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(body,
              "{\"next\":2,\"last\":2,\"lost\":0,\"events\":[{\"id\":2,\"time\":1764780312400,"
              "\"iso_time\":\"2025-12-03T16:45:12.400Z\",\"type\":\"play\",\"worker\":0,"
              "\"client\":0,\"address\":\"\",\"protocol\":\"\",\"app\":\"\",\"stream\":\"a\","
              "\"detail\":\"\"}]}\n");
}

TEST(EventsAnswer, EscapesHostileNames)
{
    EventRing* r = EventRing::create();
    (void)r->append(event("publish", "cam\"<&>\n\xff"));
    int status = 0;
    std::string body = strom::mod::events_answer(*r, "", &status);
    EXPECT_EQ(status, 200);
    EXPECT_NE(body.find("\"stream\":\"cam\\\"\\u003c\\u0026\\u003e\\n\xef\xbf\xbd\""),
              std::string::npos)
        << body;
    EXPECT_EQ(body.find('\n'), body.size() - 1);  // one line: safe as an SSE data: line
}

TEST(EventsAnswer, RefusesBadQueries)
{
    EventRing* r = EventRing::create();
    for (const char* q : {"since=x", "since=", "limit=0", "limit=1001", "since=-1", "foo=1",
                          "since=12345678901234567890"}) {
        int status = 0;
        std::string body = strom::mod::events_answer(*r, q, &status);
        EXPECT_EQ(status, 400) << q;
        EXPECT_EQ(body.rfind("{\"error\":", 0), 0u) << q;
    }
}

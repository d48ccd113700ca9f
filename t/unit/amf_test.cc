// AMF0/AMF3: golden bytes written by hand from the specifications, round trips, real client
// messages (ffmpeg connect, OBS @setDataFrame), and malformed input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "rtmp/amf.h"
#include "rtmp/amf0.h"
#include "rtmp/amf3.h"
#include "rtmp/amf_decode_state.h"

using namespace strom;
using namespace strom::rtmp;

namespace strom::rtmp {
void PrintTo(const AmfValue& v, std::ostream* os) { *os << v.dump(); }
}  // namespace strom::rtmp

namespace {

// "03 00 01 61" -> bytes. Golden bytes are written in hex straight from the specs.
std::string H(const char* hex)
{
    std::string out;
    int nib = -1;
    for (const char* p = hex; *p; ++p) {
        int v;
        if (*p >= '0' && *p <= '9') v = *p - '0';
        else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
        else continue;
        if (nib < 0) {
            nib = v;
        } else {
            out.push_back(char(nib << 4 | v));
            nib = -1;
        }
    }
    return out;
}

// AMF0 UTF-8: U16 length then the bytes (AMF0 1.3), by hand.
std::string s16(std::string_view s)
{
    std::string out;
    out.push_back(char(s.size() >> 8));
    out.push_back(char(s.size() & 0xff));
    out.append(s);
    return out;
}

std::string str0(std::string_view s) { return H("02") + s16(s); }

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

using DecodeFn = Rc (*)(const uint8_t*, size_t, size_t*, AmfValue*, AmfDecodeState&,
                        const char**);

struct Result {
    Rc rc;
    AmfValue v;
    size_t used = 0;
    const char* why = nullptr;
};

Result run(DecodeFn fn, const std::string& bytes, const AmfLimits& limits = {})
{
    // An exact-size heap copy, so ASan sees any read past the end.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[bytes.size()]);
    std::memcpy(buf.get(), bytes.data(), bytes.size());
    AmfDecodeState st(limits);
    Result r;
    r.rc = fn(buf.get(), bytes.size(), &r.used, &r.v, st, &r.why);
    return r;
}

AmfValue dec0(const std::string& bytes)
{
    Result r = run(amf0_decode, bytes);
    EXPECT_EQ(r.rc, Rc::ok) << (r.why ? r.why : "");
    EXPECT_EQ(r.used, bytes.size());
    return r.v;
}

AmfValue dec3(const std::string& bytes)
{
    Result r = run(amf3_decode, bytes);
    EXPECT_EQ(r.rc, Rc::ok) << (r.why ? r.why : "");
    EXPECT_EQ(r.used, bytes.size());
    return r.v;
}

std::string enc0(const AmfValue& v)
{
    std::string s;
    amf0_encode(v, &s);
    return s;
}

std::string enc3(const AmfValue& v)
{
    std::string s;
    amf3_encode(v, &s);
    return s;
}

void expect_error(DecodeFn fn, const std::string& bytes, const char* why_part)
{
    Result r = run(fn, bytes);
    EXPECT_EQ(r.rc, Rc::error) << r.v.dump();
    ASSERT_NE(r.why, nullptr);
    EXPECT_NE(std::string(r.why).find(why_part), std::string::npos) << r.why;
    EXPECT_TRUE(r.v.is_undefined());
}

// Every proper prefix of one encoded value must fail (again or error), never read past
// its end, and never claim a value.
void expect_prefixes_fail(DecodeFn fn, const std::string& bytes)
{
    for (size_t k = 0; k < bytes.size(); ++k) {
        Result r = run(fn, bytes.substr(0, k));
        EXPECT_NE(r.rc, Rc::ok) << "prefix " << k << " of " << bytes.size();
        EXPECT_NE(r.why, nullptr);
    }
}

std::string repeat(const std::string& s, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}

}  // namespace

// --- AmfValue ------------------------------------------------------------------------------

TEST(AmfValue, BuildersAndAccessors)
{
    AmfValue o = AmfValue::object({{"level", "status"}, {"code", "NetStream.Play.Start"},
                                   {"n", 3}, {"ok", true}, {"nothing", nullptr}});
    EXPECT_TRUE(o.is_object());
    EXPECT_EQ(o.props().size(), 5u);
    EXPECT_EQ(o.get_str("code"), "NetStream.Play.Start");
    EXPECT_EQ(o.get_num("n"), 3);
    EXPECT_EQ(o.get_num("code", -1), -1);   // wrong type: the default
    EXPECT_TRUE(o.get("ok")->as_bool());
    EXPECT_TRUE(o.get("nothing")->is_null());
    EXPECT_EQ(o.get("missing"), nullptr);
    o.set("n", 4).set("extra", "x");
    EXPECT_EQ(o.get_num("n"), 4);
    EXPECT_EQ(o.props().size(), 6u);

    AmfValue a = AmfValue::strict_array({1, "two", AmfValue::null()});
    EXPECT_EQ(a.items().size(), 3u);
    EXPECT_EQ(a.at(1)->str(), "two");
    EXPECT_EQ(a.at(3), nullptr);
    EXPECT_EQ(a.get("x"), nullptr);

    EXPECT_EQ(AmfValue(7u).num(), 7);
    EXPECT_EQ(AmfValue(std::string("s")).str(), "s");
    EXPECT_EQ(AmfValue::integer(-5).num(), -5);
    EXPECT_TRUE(AmfValue::integer(1).is_number());
    EXPECT_EQ(AmfValue::typed_object("Foo").class_name(), "Foo");
    EXPECT_EQ(AmfValue::date(1.5e12, 60).tz(), 60);
    EXPECT_EQ(AmfValue().num(9), 9);
}

TEST(AmfValue, EqualityIsStructuralAndBitExact)
{
    double nan = std::nan("");
    EXPECT_EQ(AmfValue(nan), AmfValue(nan));
    EXPECT_NE(AmfValue(0.0), AmfValue(-0.0));
    EXPECT_NE(AmfValue(1.0), AmfValue::integer(1));
    EXPECT_NE(AmfValue::object({{"a", 1}}), AmfValue::ecma_array({{"a", 1}}));
    EXPECT_EQ(AmfValue::object({{"a", AmfValue::strict_array({1, 2})}}),
              AmfValue::object({{"a", AmfValue::strict_array({1, 2})}}));
    EXPECT_EQ(AmfValue::object({{"a", 1}, {"b", "x\n"}}).dump(),
              "object{\"a\":1,\"b\":\"x\\x0a\"}");
}

// --- AMF0 golden bytes (AMF0 spec section 2) ---------------------------------------------------

TEST(Amf0, NumberBooleanString)
{
    EXPECT_EQ(dec0(H("00 3f f0 00 00 00 00 00 00")), AmfValue(1.0));
    EXPECT_EQ(dec0(H("00 c0 09 21 fb 54 44 2d 18")).num(), -3.141592653589793);
    EXPECT_EQ(enc0(AmfValue(1.0)), H("00 3f f0 00 00 00 00 00 00"));
    EXPECT_EQ(dec0(H("01 01")), AmfValue(true));
    EXPECT_EQ(dec0(H("01 00")), AmfValue(false));
    EXPECT_EQ(dec0(H("01 7f")), AmfValue(true));   // 2.3: any non-zero byte is true
    EXPECT_EQ(enc0(AmfValue(true)), H("01 01"));
    EXPECT_EQ(dec0(H("02 00 05 68 65 6c 6c 6f")), AmfValue("hello"));
    EXPECT_EQ(dec0(H("02 00 00")), AmfValue(""));
    EXPECT_EQ(enc0(AmfValue("hello")), H("02 00 05 68 65 6c 6c 6f"));
}

TEST(Amf0, ObjectEcmaArrayStrictArray)
{
    std::string obj = H("03 00 01 61 00 40 00 00 00 00 00 00 00 00 01 62 05 00 00 09");
    AmfValue o = dec0(obj);
    EXPECT_EQ(o, AmfValue::object({{"a", 2.0}, {"b", nullptr}}));
    EXPECT_EQ(enc0(o), obj);

    std::string ecma = H("08 00 00 00 01 00 01 61 01 01 00 00 09");
    EXPECT_EQ(dec0(ecma), AmfValue::ecma_array({{"a", true}}));
    EXPECT_EQ(enc0(AmfValue::ecma_array({{"a", true}})), ecma);
    // 2.10: the count is only a hint; encoders that write 0 are read by the end marker.
    EXPECT_EQ(dec0(H("08 00 00 00 00 00 01 61 01 01 00 00 09")),
              AmfValue::ecma_array({{"a", true}}));

    std::string arr = H("0a 00 00 00 02 05 02 00 01 78");
    EXPECT_EQ(dec0(arr), AmfValue::strict_array({nullptr, "x"}));
    EXPECT_EQ(enc0(AmfValue::strict_array({nullptr, "x"})), arr);
    EXPECT_EQ(dec0(H("0a 00 00 00 00")), AmfValue::strict_array());
}

TEST(Amf0, EmptyKeyWithoutEndMarkerIsAProperty)
{
    EXPECT_EQ(dec0(H("03 00 00 05 00 00 09")), AmfValue::object({{"", nullptr}}));
}

TEST(Amf0, NullUndefinedUnsupportedDateLongStringXml)
{
    EXPECT_TRUE(dec0(H("05")).is_null());
    EXPECT_TRUE(dec0(H("06")).is_undefined());
    EXPECT_EQ(dec0(H("0d")).type(), AmfType::unsupported);
    EXPECT_EQ(enc0(AmfValue::unsupported()), H("0d"));
    EXPECT_EQ(enc0(AmfValue::null()), H("05"));
    EXPECT_EQ(enc0(AmfValue::undefined()), H("06"));

    // 2.13: DOUBLE milliseconds since the epoch, S16 time zone.
    std::string date = H("0b 42 75 d3 ef 79 80 00 00 ff c4");
    AmfValue d = dec0(date);
    EXPECT_EQ(d, AmfValue::date(1.5e12, -60));
    EXPECT_EQ(enc0(d), date);

    EXPECT_EQ(dec0(H("0c 00 00 00 03 61 62 63")), AmfValue("abc"));
    std::string big(70000, 'z');
    std::string enc = enc0(AmfValue(big));
    EXPECT_EQ(enc.substr(0, 5), H("0c 00 01 11 70"));   // 70000 = 0x11170
    AmfLimits loose;
    loose.max_string = 100000;
    Result r = run(amf0_decode, enc, loose);
    EXPECT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.v, AmfValue(big));
    EXPECT_EQ(enc0(AmfValue(std::string(65535, 'y'))).substr(0, 3), H("02 ff ff"));

    std::string xml = H("0f 00 00 00 04 3c 61 2f 3e");
    EXPECT_EQ(dec0(xml), AmfValue::xml_document("<a/>"));
    EXPECT_EQ(enc0(AmfValue::xml_document("<a/>")), xml);
}

TEST(Amf0, TypedObject)
{
    std::string t = H("10 00 03 46 6f 6f 00 01 78 05 00 00 09");
    EXPECT_EQ(dec0(t), AmfValue::typed_object("Foo", {{"x", nullptr}}));
    EXPECT_EQ(enc0(dec0(t)), t);
}

TEST(Amf0, ReferencesResolveByCopyAndCyclesStayReferences)
{
    // 2.9: the strict array is complex value 0, the object 1; 07 00 01 copies the object.
    AmfValue v = dec0(H("0a 00 00 00 02 03 00 01 61 05 00 00 09 07 00 01"));
    ASSERT_EQ(v.items().size(), 2u);
    EXPECT_EQ(v.items()[1], AmfValue::object({{"a", nullptr}}));
    EXPECT_EQ(v.items()[0], v.items()[1]);
    // The array inside itself: a cycle the tree cannot hold.
    AmfValue c = dec0(H("0a 00 00 00 01 07 00 00"));
    EXPECT_EQ(c.items()[0], AmfValue::reference(0));
    EXPECT_EQ(enc0(c), H("0a 00 00 00 01 07 00 00"));
}

TEST(Amf0, AvmplusSwitchesToAmf3ForOneValue)
{
    EXPECT_EQ(dec0(H("11 04 7f")), AmfValue::integer(127));
    AmfValue o = dec0(H("03 00 01 61 11 06 07 61 62 63 00 01 62 02 00 01 63 00 00 09"));
    EXPECT_EQ(o, AmfValue::object({{"a", "abc"}, {"b", "c"}}));
    // AMF3-only values go out behind the marker.
    EXPECT_EQ(enc0(AmfValue::integer(127)), H("11 04 7f"));
    EXPECT_EQ(enc0(AmfValue::byte_array("\x01")), H("11 0c 03 01"));
}

TEST(Amf0, RejectsReservedAndUnknownMarkers)
{
    expect_error(amf0_decode, H("04"), "reserved");
    expect_error(amf0_decode, H("0e"), "reserved");
    expect_error(amf0_decode, H("09"), "object end");
    expect_error(amf0_decode, H("12"), "unknown marker");
    expect_error(amf0_decode, H("ff"), "unknown marker");
    expect_error(amf0_decode, H("03 00 01 61 09 00 00 09"), "object end");
}

// --- real client messages --------------------------------------------------------------------

namespace {

// What ffmpeg's rtmpproto.c sends as `connect` when publishing with Enhanced RTMP, plus
// the player fields it adds when playing; hand-encoded field by field.
std::string ffmpeg_connect_object()
{
    return H("03") + s16("app") + str0("live") + s16("type") + str0("nonprivate") +
           s16("flashVer") + str0("FMLE/3.0 (compatible; Lavf61.7.100)") + s16("tcUrl") +
           str0("rtmp://127.0.0.1:1935/live") + s16("fpad") + H("01 00") +
           s16("capabilities") + H("00 40 2e 00 00 00 00 00 00") + s16("audioCodecs") +
           H("00 40 af ce 00 00 00 00 00") + s16("videoCodecs") +
           H("00 40 6f 80 00 00 00 00 00") + s16("videoFunction") +
           H("00 3f f0 00 00 00 00 00 00") + s16("fourCcList") + H("0a 00 00 00 03") +
           str0("av01") + str0("vp09") + str0("hvc1") + H("00 00 09");
}

std::string ffmpeg_connect()
{
    return str0("connect") + H("00 3f f0 00 00 00 00 00 00") + ffmpeg_connect_object();
}

// OBS (libobs flv-mux.c): @setDataFrame, onMetaData, then an ECMA array.
std::string obs_metadata()
{
    auto num = [](const char* k, const char* hex) { return s16(k) + H("00") + H(hex); };
    auto flag = [](const char* k, bool b) { return s16(k) + H(b ? "01 01" : "01 00"); };
    return str0("@setDataFrame") + str0("onMetaData") + H("08 00 00 00 14") +
           num("duration", "00 00 00 00 00 00 00 00") + num("fileSize", "00 00 00 00 00 00 00 00") +
           num("width", "40 94 00 00 00 00 00 00") + num("height", "40 86 80 00 00 00 00 00") +
           num("videocodecid", "40 1c 00 00 00 00 00 00") +
           num("videodatarate", "40 a3 88 00 00 00 00 00") +
           num("framerate", "40 3e 00 00 00 00 00 00") +
           num("audiocodecid", "40 24 00 00 00 00 00 00") +
           num("audiodatarate", "40 64 00 00 00 00 00 00") +
           num("audiosamplerate", "40 e7 70 00 00 00 00 00") +
           num("audiosamplesize", "40 30 00 00 00 00 00 00") +
           num("audiochannels", "40 00 00 00 00 00 00 00") + flag("stereo", true) +
           flag("2.1", false) + flag("3.1", false) + flag("4.0", false) + flag("4.1", false) +
           flag("5.1", false) + flag("7.1", false) + s16("encoder") +
           str0("obs-output module (libobs version 30.0.2)") + H("00 00 09");
}

}  // namespace

TEST(Amf0, FfmpegConnectCommand)
{
    std::string body = ffmpeg_connect();
    std::vector<AmfValue> v;
    AmfDecodeState st;
    const char* why = nullptr;
    ASSERT_EQ(amf0_decode_all(u8(body), body.size(), &v, st, &why), Rc::ok) << why;
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].str(), "connect");
    EXPECT_EQ(v[1].num(), 1.0);
    const AmfValue& o = v[2];
    EXPECT_EQ(o.get_str("app"), "live");
    EXPECT_EQ(o.get_str("type"), "nonprivate");
    EXPECT_EQ(o.get_str("flashVer"), "FMLE/3.0 (compatible; Lavf61.7.100)");
    EXPECT_EQ(o.get_str("tcUrl"), "rtmp://127.0.0.1:1935/live");
    EXPECT_FALSE(o.get("fpad")->as_bool(true));
    EXPECT_EQ(o.get_num("capabilities"), 15);
    EXPECT_EQ(o.get_num("audioCodecs"), 4071);
    EXPECT_EQ(o.get_num("videoCodecs"), 252);
    EXPECT_EQ(o.get_num("videoFunction"), 1);
    EXPECT_EQ(*o.get("fourCcList"), AmfValue::strict_array({"av01", "vp09", "hvc1"}));
    EXPECT_EQ(st.nodes(), 3 + 10 + 3);
    EXPECT_EQ(st.references(), 0);
    // Our encoder writes exactly what ffmpeg wrote.
    EXPECT_EQ(enc0(v[0]) + enc0(v[1]) + enc0(v[2]), body);
}

TEST(Amf0, ObsSetDataFrameMetadata)
{
    std::string body = obs_metadata();
    std::vector<AmfValue> v;
    AmfDecodeState st;
    const char* why = nullptr;
    ASSERT_EQ(amf0_decode_all(u8(body), body.size(), &v, st, &why), Rc::ok) << why;
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].str(), "@setDataFrame");
    EXPECT_EQ(v[1].str(), "onMetaData");
    const AmfValue& m = v[2];
    EXPECT_EQ(m.type(), AmfType::ecma_array);
    EXPECT_EQ(m.props().size(), 20u);
    EXPECT_EQ(m.get_num("width"), 1280);
    EXPECT_EQ(m.get_num("height"), 720);
    EXPECT_EQ(m.get_num("videocodecid"), 7);
    EXPECT_EQ(m.get_num("videodatarate"), 2500);
    EXPECT_EQ(m.get_num("framerate"), 30);
    EXPECT_EQ(m.get_num("audiosamplerate"), 48000);
    EXPECT_TRUE(m.get("stereo")->as_bool());
    EXPECT_FALSE(m.get("5.1")->as_bool(true));
    EXPECT_EQ(m.get_str("encoder"), "obs-output module (libobs version 30.0.2)");
    EXPECT_EQ(enc0(v[0]) + enc0(v[1]) + enc0(v[2]), body);
}

TEST(Amf0, DecodeAllTurnsATruncatedValueIntoAnError)
{
    std::string body = ffmpeg_connect();
    body.pop_back();   // the object-end marker
    std::vector<AmfValue> v;
    AmfDecodeState st;
    const char* why = nullptr;
    EXPECT_EQ(amf0_decode_all(u8(body), body.size(), &v, st, &why), Rc::error);
    EXPECT_STREQ(why, "amf0: message ends inside a value");
    EXPECT_EQ(v.size(), 2u);   // the values before it
}

TEST(Amf0, PutHelpersMatchTheEncoder)
{
    std::string a;
    amf0_put_string(&a, "_result");
    amf0_put_number(&a, 1);
    amf0_put_null(&a);
    amf0_put_object_begin(&a);
    amf0_put_key(&a, "level");
    amf0_put_string(&a, "status");
    amf0_put_key(&a, "ok");
    amf0_put_bool(&a, true);
    amf0_put_object_end(&a);
    std::string b = enc0(AmfValue("_result")) + enc0(AmfValue(1)) + enc0(AmfValue::null()) +
                    enc0(AmfValue::object({{"level", "status"}, {"ok", true}}));
    EXPECT_EQ(a, b);
}

// --- AMF3 golden bytes (AMF3 spec section 3) ---------------------------------------------------

TEST(Amf3, SimpleMarkers)
{
    EXPECT_TRUE(dec3(H("00")).is_undefined());
    EXPECT_TRUE(dec3(H("01")).is_null());
    EXPECT_EQ(dec3(H("02")), AmfValue(false));
    EXPECT_EQ(dec3(H("03")), AmfValue(true));
    EXPECT_EQ(dec3(H("05 3f f0 00 00 00 00 00 00")), AmfValue(1.0));
    EXPECT_EQ(enc3(AmfValue(true)), H("03"));
    EXPECT_EQ(enc3(AmfValue::null()), H("01"));
    EXPECT_EQ(enc3(AmfValue(1.0)), H("05 3f f0 00 00 00 00 00 00"));
}

TEST(Amf3, IntegerU29AndSignExtension)
{
    // 1.3.1 and 3.6: 1 to 4 bytes, 29 bits, two's complement.
    struct Case {
        const char* hex;
        int32_t v;
    } cases[] = {{"04 00", 0},           {"04 7f", 127},           {"04 81 00", 128},
                 {"04 ff 7f", 16383},    {"04 81 80 00", 16384},   {"04 ff ff 7f", 2097151},
                 {"04 80 c0 80 00", 2097152}, {"04 bf ff ff ff", 268435455},
                 {"04 c0 80 80 00", -268435456}, {"04 ff ff ff ff", -1}};
    for (const auto& c : cases) {
        EXPECT_EQ(dec3(H(c.hex)), AmfValue::integer(c.v)) << c.hex;
        EXPECT_EQ(enc3(AmfValue::integer(c.v)), H(c.hex)) << c.hex;
    }
    // Out of the 29-bit range an integer goes out as a double.
    EXPECT_EQ(enc3(AmfValue::integer(1 << 28)), H("05 41 b0 00 00 00 00 00 00"));
}

TEST(Amf3, StringsAndTheStringTable)
{
    EXPECT_EQ(dec3(H("06 07 61 62 63")), AmfValue("abc"));
    EXPECT_EQ(dec3(H("06 01")), AmfValue(""));
    EXPECT_EQ(enc3(AmfValue("abc")), H("06 07 61 62 63"));
    // 3.8: the second string is reference 0; the empty string never joins the table.
    EXPECT_EQ(dec3(H("09 07 01 06 07 61 62 63 06 01 06 00")),
              AmfValue::strict_array({"abc", "", "abc"}));
    expect_error(amf3_decode, H("09 05 01 06 01 06 00"), "string reference out of range");
}

TEST(Amf3, XmlDateByteArray)
{
    EXPECT_EQ(dec3(H("07 07 3c 61 3e")), AmfValue::xml_document("<a>"));
    EXPECT_EQ(dec3(H("0b 07 3c 61 3e")), AmfValue::xml("<a>"));
    EXPECT_EQ(dec3(H("0c 07 01 02 03")), AmfValue::byte_array(std::string_view("\x01\x02\x03", 3)));
    EXPECT_EQ(dec3(H("08 01 42 75 d3 ef 79 80 00 00")), AmfValue::date(1.5e12));
    for (const char* hex : {"07 07 3c 61 3e", "0b 07 3c 61 3e", "0c 07 01 02 03",
                            "08 01 42 75 d3 ef 79 80 00 00"}) {
        EXPECT_EQ(enc3(dec3(H(hex))), H(hex)) << hex;
    }
    // Each joined the object table: the second array element is object reference 1.
    AmfValue a = dec3(H("09 05 01 0c 03 ff 0c 02"));
    EXPECT_EQ(a,
              AmfValue::strict_array({AmfValue::byte_array("\xff"), AmfValue::byte_array("\xff")}));
}

TEST(Amf3, ArraysDenseAssociativeAndMixed)
{
    EXPECT_EQ(dec3(H("09 05 01 04 01 04 02")),
              AmfValue::strict_array({AmfValue::integer(1), AmfValue::integer(2)}));
    EXPECT_EQ(dec3(H("09 01 03 61 04 01 01")), AmfValue::ecma_array({{"a", AmfValue::integer(1)}}));
    AmfValue mixed = dec3(H("09 03 03 61 04 01 01 04 02"));
    EXPECT_EQ(mixed.type(), AmfType::ecma_array);
    EXPECT_EQ(mixed.get("a")->num(), 1);
    ASSERT_EQ(mixed.items().size(), 1u);
    EXPECT_EQ(mixed.items()[0].num(), 2);
    for (const char* hex :
         {"09 05 01 04 01 04 02", "09 01 03 61 04 01 01", "09 03 03 61 04 01 01 04 02"}) {
        EXPECT_EQ(enc3(dec3(H(hex))), H(hex)) << hex;
    }
    // Mixed arrays travel in AMF0 behind the avmplus marker.
    EXPECT_EQ(enc0(mixed), H("11 09 03 03 61 04 01 01 04 02"));
}

TEST(Amf3, ObjectsTraitsAndReferences)
{
    // 3.12: 0x0b = inline traits, dynamic, no sealed members; class "" (anonymous).
    std::string anon = H("0a 0b 01 03 61 04 01 01");
    EXPECT_EQ(dec3(anon), AmfValue::object({{"a", AmfValue::integer(1)}}));
    EXPECT_EQ(enc3(dec3(anon)), anon);
    // 0x13 = one sealed member, not dynamic; class "Foo", member "x".
    std::string typed = H("0a 13 07 46 6f 6f 03 78 04 05");
    EXPECT_EQ(dec3(typed), AmfValue::typed_object("Foo", {{"x", AmfValue::integer(5)}}));
    EXPECT_EQ(enc3(dec3(typed)), typed);
    // Sealed then dynamic members: 0x1b = one sealed member, dynamic.
    EXPECT_EQ(
        dec3(H("0a 1b 07 46 6f 6f 03 78 04 05 03 79 04 06 01")),
        AmfValue::typed_object("Foo", {{"x", AmfValue::integer(5)}, {"y", AmfValue::integer(6)}}));
    // The second object names its traits by reference 0 (0x01).
    AmfValue two = dec3(H("09 05 01 0a 13 07 46 6f 6f 03 78 04 05 0a 01 04 06"));
    EXPECT_EQ(two, AmfValue::strict_array(
                       {AmfValue::typed_object("Foo", {{"x", AmfValue::integer(5)}}),
                        AmfValue::typed_object("Foo", {{"x", AmfValue::integer(6)}})}));
    // Object reference 1 (the array is 0) copies the first object.
    AmfValue refd = dec3(H("09 05 01 0a 0b 01 03 61 04 01 01 0a 02"));
    ASSERT_EQ(refd.items().size(), 2u);
    EXPECT_EQ(refd.items()[0], refd.items()[1]);
    // An anonymous object with an empty member name is written sealed.
    AmfValue odd = AmfValue::object({{"", 1}});
    EXPECT_EQ(dec3(enc3(odd)), odd);
}

TEST(Amf3, SelfReferencingObjectBecomesAReference)
{
    // {self: <this object>}: object reference 0 while object 0 is being read.
    AmfValue v = dec3(H("0a 0b 01 09 73 65 6c 66 0a 00 01"));
    ASSERT_EQ(v.props().size(), 1u);
    EXPECT_EQ(v.props()[0].key, "self");
    EXPECT_EQ(v.props()[0].value, AmfValue::reference(0, uint8_t(Amf3Marker::object)));
    EXPECT_EQ(enc3(v), H("0a 0b 01 09 73 65 6c 66 0a 00 01"));
}

TEST(Amf3, VectorsAndDictionary)
{
    std::string vi = H("0d 05 00 00 00 00 01 ff ff ff ff");
    AmfValue v = dec3(vi);
    EXPECT_EQ(v.type(), AmfType::vector_int);
    EXPECT_FALSE(v.fixed());
    ASSERT_EQ(v.items().size(), 2u);
    EXPECT_EQ(v.items()[1], AmfValue::integer(-1));
    EXPECT_EQ(enc3(v), vi);

    std::string vu = H("0e 03 01 ff ff ff ff");
    AmfValue u = dec3(vu);
    EXPECT_TRUE(u.fixed());
    EXPECT_EQ(u.items()[0].num(), 4294967295.0);
    EXPECT_EQ(enc3(u), vu);

    std::string vd = H("0f 03 00 3f f0 00 00 00 00 00 00");
    EXPECT_EQ(dec3(vd).items()[0], AmfValue(1.0));
    EXPECT_EQ(enc3(dec3(vd)), vd);

    std::string vo = H("10 05 00 03 2a 04 01 06 03 61");
    AmfValue o = dec3(vo);
    EXPECT_EQ(o.class_name(), "*");
    EXPECT_EQ(o.items()[1], AmfValue("a"));
    EXPECT_EQ(enc3(o), vo);

    std::string dict = H("11 03 00 06 03 6b 04 01");
    AmfValue d = dec3(dict);
    EXPECT_EQ(d.type(), AmfType::dictionary);
    ASSERT_EQ(d.items().size(), 2u);
    EXPECT_EQ(d.items()[0], AmfValue("k"));
    EXPECT_EQ(d.items()[1], AmfValue::integer(1));
    EXPECT_EQ(enc3(d), dict);
    EXPECT_EQ(enc0(d), H("11") + dict);
}

TEST(Amf3, RejectsExternalizableBadReferencesAndUnknownMarkers)
{
    expect_error(amf3_decode, H("0a 07 07 46 6f 6f"), "externalizable");
    expect_error(amf3_decode, H("0a 01"), "traits reference out of range");
    expect_error(amf3_decode, H("09 05 01 0a 13 07 46 6f 6f 03 78 04 05 0a 05 04 06"),
                 "traits reference out of range");
    expect_error(amf3_decode, H("0a 00"), "reference out of range");
    expect_error(amf3_decode, H("09 05 01 09 01 01 09 06"), "reference out of range");
    expect_error(amf3_decode, H("06 00"), "string reference out of range");
    expect_error(amf3_decode, H("12"), "unknown marker");
    expect_error(amf3_decode, H("ff"), "unknown marker");
}

// --- round trips ----------------------------------------------------------------------------

namespace {

AmfValue everything_amf0(size_t long_len = 65536)
{
    return AmfValue::object({
        {"n", -2.5},
        {"b", false},
        {"s", "text"},
        {"long", std::string(long_len, 'L')},
        {"nul", nullptr},
        {"und", AmfValue::undefined()},
        {"ecma", AmfValue::ecma_array({{"k", 1}, {"", "empty key"}})},
        {"arr", AmfValue::strict_array({1, AmfValue::strict_array({"deep"}), AmfValue::object()})},
        {"date", AmfValue::date(1.7e12, 120)},
        {"xml", AmfValue::xml_document("<x/>")},
        {"typed", AmfValue::typed_object("com.example.T", {{"f", 1}})},
        {"unsup", AmfValue::unsupported()},
        {"int", AmfValue::integer(-7)},
        {"bytes", AmfValue::byte_array(std::string("\0\1\2", 3))},
    });
}

AmfValue everything_amf3()
{
    AmfValue vec = AmfValue::vector(AmfType::vector_object, true, "flash.Foo");
    vec.push(1).push("x");
    AmfValue vi = AmfValue::vector(AmfType::vector_int);
    vi.push(AmfValue::integer(-3)).push(AmfValue::integer(2147483647 / 8));
    AmfValue dict = AmfValue::dictionary(true);
    dict.push(AmfValue::object({{"key", 1}})).push("value");
    AmfValue mixed = AmfValue::ecma_array({{"k", 1}});
    mixed.push("dense");
    return AmfValue::object({
        {"n", 0.1}, {"i", AmfValue::integer(268435455)}, {"t", true}, {"s", "é"},
        {"xmld", AmfValue::xml_document("<d/>")}, {"xml", AmfValue::xml("<e/>")},
        {"date", AmfValue::date(-1.0)}, {"ba", AmfValue::byte_array("bytes")},
        {"arr", AmfValue::strict_array({nullptr, AmfValue::undefined()})}, {"mixed", mixed},
        {"typed", AmfValue::typed_object("T", {{"a", 1}, {"b", "two"}})}, {"vec", vec},
        {"vi", vi}, {"dict", dict},
    });
}

}  // namespace

TEST(Amf0, RoundTripsEveryType)
{
    AmfValue v = everything_amf0();
    EXPECT_EQ(dec0(enc0(v)), v);
    AmfValue w = everything_amf3();   // AMF3-only values through avmplus markers
    EXPECT_EQ(dec0(enc0(w)), w);
}

TEST(Amf3, RoundTripsEveryType)
{
    AmfValue v = everything_amf3();
    EXPECT_EQ(dec3(enc3(v)), v);
}

// --- malformed input ------------------------------------------------------------------------

TEST(AmfMalformed, EveryPrefixOfAValidValueFails)
{
    for (const std::string& s :
         {ffmpeg_connect_object(), enc0(everything_amf0(300)), enc0(everything_amf3()),
          H("0a 00 00 00 02 03 00 01 61 05 00 00 09 07 00 01"),
          H("0b 42 75 ef b8 a1 32 00 00 ff c4"), H("10 00 03 46 6f 6f 00 01 78 05 00 00 09"),
          H("0c 00 00 00 03 61 62 63")}) {
        expect_prefixes_fail(amf0_decode, s);
    }
    for (const std::string& s :
         {enc3(everything_amf3()), H("09 05 01 0a 13 07 46 6f 6f 03 78 04 05 0a 01 04 06"),
          H("04 ff ff ff ff"), H("0a 0b 01 09 73 65 6c 66 0a 00 01"),
          H("0d 05 00 00 00 00 01 ff ff ff ff"), H("11 03 00 06 03 6b 04 01")}) {
        expect_prefixes_fail(amf3_decode, s);
    }
}

TEST(AmfMalformed, TruncatedInputIsAgainNotError)
{
    Result r = run(amf0_decode, H("02 ff ff 61 62 63"));   // 65535 claimed, 3 present
    EXPECT_EQ(r.rc, Rc::again);
    EXPECT_STREQ(r.why, "amf0: truncated");
    r = run(amf3_decode, H("06 87 ff 7f"));   // a 65535-byte string, nothing present
    EXPECT_EQ(r.rc, Rc::again);
}

TEST(AmfMalformed, HugeLengthsAreErrorsBeforeAnyAllocation)
{
    expect_error(amf0_decode, H("0c ff ff ff ff 61 62 63"), "longer than the limit");
    expect_error(amf0_decode, H("0f ff ff ff ff 61 62 63"), "longer than the limit");
    expect_error(amf0_decode, H("0c 00 10 00 00") + std::string(100, 'a'), "longer than the limit");
    // 1 MiB claimed in a U29: (0x100000 << 1 | 1) = 0x200001.
    expect_error(amf3_decode, H("06 80 c0 80 01") + std::string(100, 'a'), "longer than the limit");
    expect_error(amf3_decode, H("0c ff ff ff ff"), "longer than the limit");
    // Exactly the limit is fine.
    std::string at_limit = H("0c 00 01 00 00") + std::string(65536, 'a');
    EXPECT_EQ(dec0(at_limit).str().size(), 65536u);
}

TEST(AmfMalformed, HugeCountsAreErrorsNotReservations)
{
    expect_error(amf0_decode, H("08 ff ff ff ff 00 01 61 05 00 01 62 05 00 00"), "count");
    expect_error(amf0_decode, H("0a ff ff ff ff 05 05 05 05 05 05 05 05 05 05"), "count");
    expect_error(amf3_decode, H("09 ff ff ff ff 01 01 01 01"), "count");
    expect_error(amf3_decode, H("0d ff ff ff ff 00 00 00 00 01"), "count");
    expect_error(amf3_decode, H("11 ff ff ff ff 00 01 01"), "count");
    expect_error(amf3_decode, H("0a ff ff ff f3 01 03 61"), "count");   // 2^25 sealed names
    // Within the limit but beyond the bytes present: truncated, still nothing reserved.
    EXPECT_EQ(run(amf0_decode, H("0a 00 00 0f a0 05 05")).rc, Rc::again);
}

TEST(AmfMalformed, MissingObjectEnd)
{
    EXPECT_EQ(run(amf0_decode, H("03 00 01 61 05")).rc, Rc::again);
    EXPECT_EQ(run(amf0_decode, H("03 00 01 61 05 00 00")).rc, Rc::again);
    EXPECT_EQ(run(amf0_decode, H("08 00 00 00 01 00 01 61 05")).rc, Rc::again);
    std::vector<AmfValue> v;
    AmfDecodeState st;
    const char* why = nullptr;
    std::string s = H("03 00 01 61 05");
    EXPECT_EQ(amf0_decode_all(u8(s), s.size(), &v, st, &why), Rc::error);
}

TEST(AmfMalformed, DepthLimitBoundary)
{
    // 32 nested objects decode, 33 do not (ZLMediaKit #4787's test, with our limit).
    auto nested = [](int n) {
        return repeat(H("03 00 01 61"), n - 1) + H("03") + repeat(H("00 00 09"), n);
    };
    Result ok = run(amf0_decode, nested(32));
    EXPECT_EQ(ok.rc, Rc::ok);
    Result deep = run(amf0_decode, nested(33));
    EXPECT_EQ(deep.rc, Rc::error);
    EXPECT_STREQ(deep.why, "amf: nesting too deep");
}

TEST(AmfMalformed, TenThousandLevelsFailWithoutDeepRecursion)
{
    const int n = 10000;
    expect_error(amf0_decode, repeat(H("03 00 01 61"), n) + H("05"), "nesting too deep");
    expect_error(amf0_decode, repeat(H("0a 00 00 00 01"), n) + H("05"), "nesting too deep");
    expect_error(amf0_decode, repeat(H("08 00 00 00 01 00 01 61"), n) + H("05"),
                 "nesting too deep");
    expect_error(amf0_decode, repeat(H("11 09 03 01"), 1) + repeat(H("09 03 01"), n),
                 "nesting too deep");
    expect_error(amf3_decode, repeat(H("09 03 01"), n) + H("01"), "nesting too deep");
    expect_error(amf3_decode, repeat(H("0a 0b 01 03 61"), n) + H("01"), "nesting too deep");
    expect_error(amf3_decode, repeat(H("10 03 00 01"), n) + H("01"), "nesting too deep");
    expect_error(amf3_decode, repeat(H("11 03 00 01"), n) + H("01"), "nesting too deep");
}

TEST(AmfMalformed, BadAmf0References)
{
    expect_error(amf0_decode, H("07 00 00"), "reference out of range");
    expect_error(amf0_decode, H("0a 00 00 00 02 03 00 00 09 07 00 02"), "reference out of range");
}

TEST(AmfMalformed, ExponentialReferencesHitTheNodeLimit)
{
    // Object i holds two references to object i-1: 2^40 values from a few hundred bytes.
    std::string s = H("0a 00 00 00 29") + H("03 00 01 61 05 00 00 09");
    for (int i = 1; i <= 40; ++i) {
        uint8_t prev = uint8_t(i);   // entry 0 is the array, entry i the i-th object
        s += H("03") + s16("l") + H("07 00") + std::string(1, char(prev)) + s16("r") + H("07 00") +
             std::string(1, char(prev)) + H("00 00 09");
    }
    Result r = run(amf0_decode, s);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_STREQ(r.why, "amf: references expand past the value limit");
    // AMF3: an array of 64 arrays, each holding its predecessor twice; element 0 is an
    // empty array (entry 1).
    std::string t = H("09 81 01 01") + H("09 01 01");
    for (int i = 1; i < 64; ++i) {
        uint8_t ref = uint8_t(i << 1);   // entry i
        t += H("09 05 01 09") + std::string(1, char(ref)) + H("09") + std::string(1, char(ref));
    }
    Result r3 = run(amf3_decode, t);
    EXPECT_EQ(r3.rc, Rc::error);
    EXPECT_STREQ(r3.why, "amf: references expand past the value limit");
}

TEST(AmfMalformed, StringReferenceAmplificationHitsTheByteLimit)
{
    // One 60 KiB string, then 100 references to it: 6 MB of strings from 60 KiB of input.
    std::string t = H("09 81 4b 01") + H("06 87 a9 41") + std::string(60000, 's');
    for (int i = 0; i < 100; ++i) t += H("06 00");
    Result r = run(amf3_decode, t);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_STREQ(r.why, "amf: string bytes over the message limit");
}

TEST(AmfMalformed, NodeLimitAcrossAMessage)
{
    // 5000 nulls in one strict array.
    std::string s = H("0a 00 00 13 88") + std::string(5000, '\x05');
    expect_error(amf0_decode, s, "count");
    // The budget is per message: many small values add up.
    std::string many = repeat(H("05"), 5000);
    std::vector<AmfValue> v;
    AmfDecodeState st;
    const char* why = nullptr;
    EXPECT_EQ(amf0_decode_all(u8(many), many.size(), &v, st, &why), Rc::error);
    EXPECT_STREQ(why, "amf: too many values");
    st.reset();
    EXPECT_EQ(st.nodes(), 0);
}

TEST(AmfMalformed, LimitsAreConfigurable)
{
    AmfLimits tight;
    tight.max_depth = 2;
    tight.max_string = 4;
    EXPECT_EQ(run(amf0_decode, H("03 00 01 61 03 00 00 09 00 00 09"), tight).rc, Rc::ok);
    EXPECT_EQ(
        run(amf0_decode, H("03 00 01 61 03 00 01 62 03 00 00 09 00 00 09 00 00 09"), tight).rc,
        Rc::error);
    EXPECT_EQ(run(amf0_decode, str0("abcd"), tight).rc, Rc::ok);
    EXPECT_EQ(run(amf0_decode, str0("abcde"), tight).rc, Rc::error);
    EXPECT_EQ(run(amf0_decode, H("03") + s16("abcde") + H("05 00 00 09"), tight).rc, Rc::error);
}

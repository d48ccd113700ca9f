#include "modules/stat_xml_module.h"

#include <gtest/gtest.h>

#include <cstring>

namespace strom::mod {
namespace {

std::string esc(std::string_view s)
{
    std::string out;
    xml_escape(&out, s);
    return out;
}

TEST(XmlEscape, EntitiesForTheFiveSpecials)
{
    EXPECT_EQ(esc("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
    EXPECT_EQ(esc("plain/name_1"), "plain/name_1");
}

TEST(XmlEscape, ControlCharactersBecomeQuestionMarks)
{
    EXPECT_EQ(esc(std::string("a\x01" "b\x1f" "c", 5)), "a?b?c");
    EXPECT_EQ(esc(std::string("a\0b", 3)), "a?b");
    EXPECT_EQ(esc("t\tn\nr\r"), "t\tn\nr\r");  // the three XML 1.0 allows
    EXPECT_EQ(esc("\xef\xbf\xbe\xef\xbf\xbf"), "??");  // U+FFFE, U+FFFF
}

TEST(XmlEscape, InvalidUtf8BecomesReplacementCharacter)
{
    const std::string fffd = "\xef\xbf\xbd";
    EXPECT_EQ(esc("\xc3\xa9"), "\xc3\xa9");                 // é kept
    EXPECT_EQ(esc("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");  // 4-byte kept
    EXPECT_EQ(esc("a\xff" "b"), "a" + fffd + "b");
    EXPECT_EQ(esc("\xc3"), fffd);                       // cut sequence
    EXPECT_EQ(esc("\xc0\xaf"), fffd + fffd);            // overlong
    EXPECT_EQ(esc("\xed\xa0\x80"), fffd + fffd + fffd);  // surrogate
}

TEST(StatXml, TreeFromSnapshot)
{
    StatsBoard::Snapshot snap;
    snap.started_ms = 1000;
    StreamFigures f{};
    std::string key = "live/a<&\"b";
    memcpy(f.key, key.data(), key.size());
    f.key_len = uint16_t(key.size());
    f.source = SourceKind::local;
    f.started_ms = 2000;
    set_text(f.video_codec, "H.264");
    f.width = 320;
    f.height = 240;
    f.fps_milli = 25000;
    set_text(f.audio_codec, "AAC");
    f.sample_rate = 44100;
    f.channels = 1;
    snap.streams.push_back(f);
    ClientFigures c{};
    c.id = 7;
    c.role = ClientRole::publisher;
    memcpy(c.key, key.data(), key.size());
    c.key_len = f.key_len;
    set_text(c.flashver, "FMLE/3.0");
    snap.clients.push_back(c);
    StatXmlInfo info;
    info.pid = 42;
    info.stylesheet = "s.xsl?a=1&b=2";
    std::string x = stat_xml_answer(snap, info, 5000);
    EXPECT_NE(x.find("href=\"s.xsl?a=1&amp;b=2\""), std::string::npos) << x;
    EXPECT_NE(x.find("<uptime>4</uptime>"), std::string::npos) << x;
    EXPECT_NE(x.find("<name>a&lt;&amp;&quot;b</name>"), std::string::npos) << x;
    EXPECT_NE(x.find("<time>3000</time>"), std::string::npos) << x;
    EXPECT_NE(x.find("<id>7</id>"), std::string::npos) << x;
    EXPECT_NE(x.find("<flashver>FMLE/3.0</flashver>"), std::string::npos) << x;
    EXPECT_NE(x.find("<width>320</width><height>240</height><frame_rate>25</frame_rate>"),
              std::string::npos)
        << x;
    EXPECT_NE(x.find("<codec>H264</codec>"), std::string::npos) << x;  // nginx-rtmp spelling
    EXPECT_NE(x.find("<sample_rate>44100</sample_rate>"), std::string::npos) << x;
    EXPECT_NE(x.find("<nclients>1</nclients>\r\n<publishing/>"), std::string::npos) << x;
}

}  // namespace
}  // namespace strom::mod

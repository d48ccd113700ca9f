#include "modules/stats_board.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

using strom::mod::ClientFigures;
using strom::mod::StatsBoard;
using strom::mod::StreamFigures;
using strom::mod::WorkerFigures;

namespace {

// A pid that is certainly dead: a child that exited and was reaped.
pid_t dead_pid()
{
    pid_t p = fork();
    if (p == 0) _exit(0);
    waitpid(p, nullptr, 0);
    return p;
}

WorkerFigures worker(pid_t pid, uint64_t in, uint64_t out)
{
    WorkerFigures f{};
    f.pid = pid;
    f.bytes_in = in;
    f.bytes_out = out;
    return f;
}

}  // namespace

TEST(StatsBoard, WrittenSlotsOfLiveWorkersAreRead)
{
    StatsBoard* b = StatsBoard::create();
    pid_t me = getpid();
    int w = b->claim_worker(me);
    ASSERT_GE(w, 0);
    b->write_worker(w, worker(me, 10, 20));
    int s = b->claim_stream(me);
    ASSERT_GE(s, 0);
    StreamFigures sf{};
    sf.pid = me;
    sf.key_len = 8;
    memcpy(sf.key, "live/cam", 8);
    sf.players_rtmp = 3;
    b->write_stream(s, sf);
    int c = b->claim_client(me);
    ClientFigures cf{};
    cf.pid = me;
    cf.id = 7;
    b->write_client(c, cf);

    StatsBoard::Snapshot snap;
    b->snapshot(&snap, true);
    ASSERT_EQ(snap.workers.size(), 1u);
    EXPECT_EQ(snap.workers[0].bytes_out, 20u);
    ASSERT_EQ(snap.streams.size(), 1u);
    EXPECT_EQ(snap.streams[0].key_view(), "live/cam");
    EXPECT_EQ(snap.streams[0].players_rtmp, 3u);
    ASSERT_EQ(snap.clients.size(), 1u);
    EXPECT_EQ(snap.clients[0].id, 7u);

    b->snapshot(&snap, false);
    EXPECT_TRUE(snap.clients.empty());

    b->release_client(c, me);
    b->release_stream(s, me);
    b->snapshot(&snap, true);
    EXPECT_TRUE(snap.streams.empty());
    EXPECT_TRUE(snap.clients.empty());
}

TEST(StatsBoard, DeadWorkersAreIgnoredAndTheirTotalsRetired)
{
    StatsBoard* b = StatsBoard::create();
    pid_t gone = dead_pid();
    int w = b->claim_worker(gone);
    b->write_worker(w, worker(gone, 1000, 5000));
    int s = b->claim_stream(gone);
    StreamFigures sf{};
    sf.pid = gone;
    b->write_stream(s, sf);

    StatsBoard::Snapshot snap;
    b->snapshot(&snap, true);
    EXPECT_TRUE(snap.workers.empty());
    EXPECT_TRUE(snap.streams.empty());  // its worker is dead
    EXPECT_EQ(snap.retired_bytes_in, 0u);

    // The next worker to start folds the dead one's totals and may reuse its slot.
    pid_t me = getpid();
    ASSERT_GE(b->claim_worker(me), 0);
    b->snapshot(&snap, true);
    EXPECT_EQ(snap.retired_bytes_in, 1000u);
    EXPECT_EQ(snap.retired_bytes_out, 5000u);
    EXPECT_EQ(snap.workers_exited, 1u);
}

TEST(StatsBoard, CleanExitFoldsTotalsOnce)
{
    StatsBoard* b = StatsBoard::create();
    pid_t me = getpid();
    int w = b->claim_worker(me);
    b->write_worker(w, worker(me, 3, 4));
    b->release_worker(w, me, true);
    b->release_worker(w, me, true);  // no longer ours: nothing more
    StatsBoard::Snapshot snap;
    b->snapshot(&snap, false);
    EXPECT_TRUE(snap.workers.empty());
    EXPECT_EQ(snap.retired_bytes_in, 3u);
    EXPECT_EQ(snap.retired_bytes_out, 4u);
}

TEST(StatsBoard, FullTableRefusesThenReclaimsDeadSlots)
{
    StatsBoard* b = StatsBoard::create();
    pid_t me = getpid();
    for (size_t i = 0; i < StatsBoard::kStreams; ++i) ASSERT_GE(b->claim_stream(me), 0);
    EXPECT_EQ(b->claim_stream(me), -1);
    b->release_stream(5, me);
    EXPECT_EQ(b->claim_stream(me), 5);

    StatsBoard* b2 = StatsBoard::create();
    pid_t gone = dead_pid();
    for (size_t i = 0; i < StatsBoard::kClients; ++i) ASSERT_GE(b2->claim_client(gone), 0);
    EXPECT_GE(b2->claim_client(me), 0);  // a dead owner's slot is taken over
}

TEST(StatsBoard, TextFieldsAreCutAtCharacterBoundaries)
{
    char small[6];
    strom::mod::set_text(small, "ab\xc3\xa9\xc3\xa9");  // "abéé": 6 bytes, room for 5
    EXPECT_STREQ(small, "ab\xc3\xa9");
    strom::mod::set_text(small, "xy");
    EXPECT_STREQ(small, "xy");
}

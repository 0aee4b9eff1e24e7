// Unit tests of the virt board: devices driven through their registers with
// fake interrupt lines, clock and guest memory; the loader and the device
// tree; and the assembled Machine.
#include <elf.h>
#include <gtest/gtest.h>
#include <libfdt.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "machine/clint.h"
#include "machine/htif.h"
#include "machine/loader.h"
#include "machine/machine.h"
#include "machine/plic.h"
#include "machine/testdev.h"
#include "machine/uart.h"
#include "machine/virtio_blk.h"

namespace fs = std::filesystem;
using namespace machine;

namespace {

// ---- fakes --------------------------------------------------------------------

struct FakeLines : HartLines {
  std::map<std::pair<unsigned, unsigned>, bool> line;
  std::map<unsigned, int> timer_changes;
  void set_line(unsigned hart, rv64::Irq irq, bool level) override { line[{hart, irq}] = level; }
  void timer_changed(unsigned hart) override { ++timer_changes[hart]; }
  bool get(unsigned hart, rv64::Irq irq) {
    auto it = line.find({hart, irq});
    return it != line.end() && it->second;
  }
};

struct FakeClock : Clock {
  uint64_t t = 0;
  uint64_t now() override { return t; }
};

struct FakeIrq : IrqSource {
  std::map<unsigned, bool> level;
  int calls = 0;
  void set_irq(unsigned source, bool l) override {
    level[source] = l;
    ++calls;
  }
};

struct Sink : CharBackend {
  std::string out;
  void write(const uint8_t* data, size_t len) override { out.append(reinterpret_cast<const char*>(data), len); }
};

// Guest RAM for devices that do DMA: 1 MiB at 0x80000000.
struct FakeRam {
  static constexpr uint64_t kBase = 0x80000000;
  std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 20);
  bool in(uint64_t pa, uint64_t len) const {
    return pa >= kBase && pa - kBase <= mem.size() && len <= mem.size() - (pa - kBase);
  }
  bool read(uint64_t pa, void* dst, uint64_t len) {
    if (!in(pa, len)) return false;
    std::memcpy(dst, &mem[pa - kBase], len);
    return true;
  }
  bool write(uint64_t pa, const void* src, uint64_t len) {
    if (!in(pa, len)) return false;
    std::memcpy(&mem[pa - kBase], src, len);
    return true;
  }
  template <class T>
  void put(uint64_t pa, T v) {
    ASSERT_TRUE(write(pa, &v, sizeof v));
  }
  template <class T>
  T get(uint64_t pa) {
    T v{};
    EXPECT_TRUE(read(pa, &v, sizeof v));
    return v;
  }
};

// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "coremu-dev-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::vector<uint8_t>& data) const {
    std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), data.size());
    return p;
  }
};

uint64_t rd(Device& d, uint64_t off, unsigned size = 4) {
  uint64_t v = 0;
  EXPECT_TRUE(d.read(off, size, v)) << "read at " << off;
  return v;
}
void wr(Device& d, uint64_t off, uint64_t v, unsigned size = 4) { EXPECT_TRUE(d.write(off, size, v)) << "write at " << off; }

// ---- PLIC ---------------------------------------------------------------------

constexpr uint64_t kEnable(unsigned ctx) { return Plic::kEnableBase + Plic::kEnableStride * ctx; }
constexpr uint64_t kThreshold(unsigned ctx) { return Plic::kContextBase + Plic::kContextStride * ctx; }
constexpr uint64_t kClaim(unsigned ctx) { return kThreshold(ctx) + 4; }

TEST(Plic, PriorityRegistersHoldThreeBits) {
  FakeLines lines;
  Plic p(lines, 1);
  wr(p, 4 * 5, 0xff);
  EXPECT_EQ(rd(p, 4 * 5), 7u);
  wr(p, 0, 3);  // source 0 does not exist
  EXPECT_EQ(rd(p, 0), 0u);
  wr(p, 4 * 95, 2);
  EXPECT_EQ(rd(p, 4 * 95), 2u);
  uint64_t v;
  EXPECT_FALSE(p.read(4 * 5, 8, v));  // 32-bit registers only
  EXPECT_FALSE(p.write(4 * 5, 1, 1));
}

TEST(Plic, ClaimPicksHighestPriorityThenLowestId) {
  FakeLines lines;
  Plic p(lines, 1);
  for (unsigned s : {3u, 10u, 40u}) wr(p, 4 * s, s == 3 ? 2 : 5);
  wr(p, kEnable(0), (1u << 3) | (1u << 10));
  wr(p, kEnable(0) + 4, 1u << (40 - 32));
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  p.set_irq(3, true);
  EXPECT_TRUE(lines.get(0, rv64::kMEI));
  p.set_irq(40, true);
  p.set_irq(10, true);
  EXPECT_EQ(rd(p, Plic::kPendingBase), (1u << 3) | (1u << 10));
  EXPECT_EQ(rd(p, Plic::kPendingBase + 4), 1u << 8);
  EXPECT_EQ(rd(p, kClaim(0)), 10u);  // priority 5, lower id than 40
  EXPECT_EQ(rd(p, kClaim(0)), 40u);
  EXPECT_EQ(rd(p, kClaim(0)), 3u);
  EXPECT_FALSE(lines.get(0, rv64::kMEI));  // everything claimed
  EXPECT_EQ(rd(p, kClaim(0)), 0u);
  EXPECT_EQ(rd(p, Plic::kPendingBase), 0u);
}

TEST(Plic, CompleteRependsAStillAssertedSource) {
  FakeLines lines;
  Plic p(lines, 1);
  wr(p, 4 * 7, 1);
  wr(p, kEnable(0), 1u << 7);
  p.set_irq(7, true);
  EXPECT_EQ(rd(p, kClaim(0)), 7u);
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  p.set_irq(7, true);  // still asserted while in service: no new request
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  wr(p, kClaim(0), 7);  // complete
  EXPECT_TRUE(lines.get(0, rv64::kMEI));
  EXPECT_EQ(rd(p, kClaim(0)), 7u);
  p.set_irq(7, false);  // the device is satisfied before completion
  wr(p, kClaim(0), 7);
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  EXPECT_EQ(rd(p, kClaim(0)), 0u);
}

TEST(Plic, LoweringALineWithdrawsThePendingRequest) {
  FakeLines lines;
  Plic p(lines, 1);
  wr(p, 4 * 2, 1);
  wr(p, kEnable(0), 1u << 2);
  p.set_irq(2, true);
  EXPECT_TRUE(lines.get(0, rv64::kMEI));
  p.set_irq(2, false);
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  EXPECT_EQ(rd(p, kClaim(0)), 0u);
}

TEST(Plic, ThresholdMasksLowerOrEqualPriorities) {
  FakeLines lines;
  Plic p(lines, 1);
  wr(p, 4 * 1, 3);
  wr(p, kEnable(0), 1u << 1);
  wr(p, kThreshold(0), 3);
  EXPECT_EQ(rd(p, kThreshold(0)), 3u);
  p.set_irq(1, true);
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  EXPECT_EQ(rd(p, kClaim(0)), 0u);
  wr(p, kThreshold(0), 2);
  EXPECT_TRUE(lines.get(0, rv64::kMEI));
  wr(p, 4 * 1, 0);  // priority 0 never interrupts
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
}

TEST(Plic, ContextsMapToMachineAndSupervisorLinesOfEachHart) {
  FakeLines lines;
  Plic p(lines, 2);
  wr(p, 4 * 9, 1);
  wr(p, kEnable(3), 1u << 9);  // hart 1, S-mode
  p.set_irq(9, true);
  EXPECT_TRUE(lines.get(1, rv64::kSEI));
  EXPECT_FALSE(lines.get(1, rv64::kMEI));
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  EXPECT_FALSE(lines.get(0, rv64::kSEI));
  wr(p, kEnable(0), 1u << 9);  // hart 0, M-mode too
  EXPECT_TRUE(lines.get(0, rv64::kMEI));
  EXPECT_EQ(rd(p, kClaim(0)), 9u);  // one claim serves both contexts
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  EXPECT_FALSE(lines.get(1, rv64::kSEI));
  EXPECT_EQ(rd(p, kClaim(3)), 0u);
}

TEST(Plic, CompletionIsIgnoredForSourcesNotEnabledInTheContext) {
  FakeLines lines;
  Plic p(lines, 1);
  wr(p, 4 * 4, 1);
  wr(p, kEnable(1), 1u << 4);
  p.set_irq(4, true);
  EXPECT_EQ(rd(p, kClaim(1)), 4u);
  wr(p, kEnable(1), 0);
  wr(p, kClaim(1), 4);  // ignored: disabled
  wr(p, kEnable(1), 1u << 4);
  EXPECT_FALSE(lines.get(0, rv64::kSEI));  // still in service
  wr(p, kClaim(1), 4);
  EXPECT_TRUE(lines.get(0, rv64::kSEI));
}

TEST(Plic, EnableBitOfSourceZeroIsHardwiredAndResetClearsState) {
  FakeLines lines;
  Plic p(lines, 1);
  wr(p, kEnable(0), 0xffffffff);
  EXPECT_EQ(rd(p, kEnable(0)), 0xfffffffeu);
  wr(p, 4 * 6, 1);
  p.set_irq(6, true);
  EXPECT_TRUE(lines.get(0, rv64::kMEI));
  p.reset();
  EXPECT_FALSE(lines.get(0, rv64::kMEI));
  EXPECT_EQ(rd(p, kEnable(0)), 0u);
  EXPECT_EQ(rd(p, 4 * 6), 0u);
  EXPECT_EQ(rd(p, Plic::kPendingBase), 1u << 6);  // the line is still high
  EXPECT_EQ(Plic::window_size(4), memmap::kPlicSize);
  EXPECT_GT(Plic::window_size(1024), memmap::kPlicSize);
}

// ---- UART ---------------------------------------------------------------------

constexpr unsigned kUartIrq = 10;

TEST(Uart, TransmitsToTheBackendAndDiscardsWithoutOne) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  wr(u, 0, 'x', 1);  // no backend: dropped
  Sink sink;
  u.set_backend(&sink);
  for (char c : std::string("hi\n")) wr(u, 0, static_cast<uint8_t>(c), 1);
  EXPECT_EQ(sink.out, "hi\n");
  EXPECT_EQ(rd(u, 5, 1) & 0x60, 0x60u);  // THRE and TEMT
  u.host_write(reinterpret_cast<const uint8_t*>("ok"), 2);
  EXPECT_EQ(sink.out, "hi\nok");
}

TEST(Uart, ThrEmptyInterruptIsRaisedOnEnableAndClearedByReadingIir) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  EXPECT_EQ(rd(u, 2, 1), 0x01u);  // no interrupt, FIFO off
  wr(u, 1, 0x02, 1);               // IER.ETBEI
  EXPECT_TRUE(irq.level[kUartIrq]);
  EXPECT_EQ(rd(u, 2, 1), 0x02u);
  EXPECT_FALSE(irq.level[kUartIrq]);  // acknowledged by the IIR read
  EXPECT_EQ(rd(u, 2, 1), 0x01u);
  wr(u, 0, 'a', 1);  // sent at once: THR empty again
  EXPECT_TRUE(irq.level[kUartIrq]);
  wr(u, 2, 0x01, 1);  // FIFO on
  EXPECT_EQ(rd(u, 2, 1), 0xc2u);
  wr(u, 1, 0x00, 1);
  wr(u, 1, 0x02, 1);  // re-enabling raises it again (Linux's THRE test)
  EXPECT_TRUE(irq.level[kUartIrq]);
  wr(u, 1, 0x00, 1);
  EXPECT_FALSE(irq.level[kUartIrq]);
}

TEST(Uart, ReceiveFifoFillsUpToSixteenBytes) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  wr(u, 2, 0x07, 1);  // FIFO on, cleared, trigger level 1
  std::string in = "0123456789abcdefXYZ";
  EXPECT_EQ(u.receive(reinterpret_cast<const uint8_t*>(in.data()), in.size()), 16u);
  EXPECT_EQ(u.receive(reinterpret_cast<const uint8_t*>("Q"), 1), 0u);  // full
  EXPECT_FALSE(irq.level[kUartIrq]);  // receive interrupt not enabled
  wr(u, 1, 0x01, 1);                  // IER.ERBFI
  EXPECT_TRUE(irq.level[kUartIrq]);
  EXPECT_EQ(rd(u, 2, 1), 0xc4u);  // received data available
  std::string got;
  while (rd(u, 5, 1) & 1) got.push_back(static_cast<char>(rd(u, 0, 1)));
  EXPECT_EQ(got, in.substr(0, 16));
  EXPECT_FALSE(irq.level[kUartIrq]);
  EXPECT_EQ(rd(u, 2, 1), 0xc1u);
  EXPECT_EQ(u.receive(reinterpret_cast<const uint8_t*>("Q"), 1), 1u);
  EXPECT_EQ(rd(u, 0, 1), static_cast<uint64_t>('Q'));
}

TEST(Uart, FifoTriggerLevelAndTimeoutIdentification) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  wr(u, 2, 0x81, 1);  // FIFO on, trigger 8
  wr(u, 1, 0x01, 1);
  u.receive(reinterpret_cast<const uint8_t*>("abc"), 3);
  EXPECT_EQ(rd(u, 2, 1), 0xccu);  // below the trigger: character timeout
  u.receive(reinterpret_cast<const uint8_t*>("defgh"), 5);
  EXPECT_EQ(rd(u, 2, 1), 0xc4u);
}

TEST(Uart, WithoutFifoOnlyOneByteIsHeld) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  EXPECT_EQ(u.receive(reinterpret_cast<const uint8_t*>("ab"), 2), 1u);
  wr(u, 1, 0x01, 1);
  EXPECT_EQ(rd(u, 2, 1), 0x04u);
  EXPECT_EQ(rd(u, 0, 1), static_cast<uint64_t>('a'));
  EXPECT_EQ(rd(u, 0, 1), 0u);  // empty
}

TEST(Uart, LoopbackEchoesTransmitsAndReportsOverrun) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  Sink sink;
  u.set_backend(&sink);
  wr(u, 2, 0x01, 1);
  wr(u, 4, 0x10 | 0x0b, 1);  // loopback, DTR, RTS, OUT2
  EXPECT_EQ(rd(u, 6, 1), 0xb0u);  // CTS, DSR, DCD follow RTS, DTR, OUT2
  for (int i = 0; i < 17; ++i) wr(u, 0, 'A' + i, 1);
  EXPECT_EQ(sink.out, "");  // nothing leaves the chip
  EXPECT_EQ(u.receive(reinterpret_cast<const uint8_t*>("z"), 1), 0u);  // the line is disconnected
  wr(u, 1, 0x04, 1);  // line status interrupt
  EXPECT_TRUE(irq.level[kUartIrq]);
  EXPECT_EQ(rd(u, 2, 1), 0xc6u);
  EXPECT_EQ(rd(u, 5, 1), 0x63u);  // DR, OE, THRE, TEMT
  EXPECT_EQ(rd(u, 5, 1), 0x61u);  // OE cleared by the read
  EXPECT_FALSE(irq.level[kUartIrq]);
  EXPECT_EQ(rd(u, 0, 1), static_cast<uint64_t>('A'));
  wr(u, 4, 0, 1);
  EXPECT_EQ(rd(u, 6, 1), 0xb0u);
}

TEST(Uart, DivisorLatchIsSeparateFromThrAndIer) {
  FakeIrq irq;
  Uart u(irq, kUartIrq);
  Sink sink;
  u.set_backend(&sink);
  wr(u, 3, 0x83, 1);  // DLAB, 8N1
  wr(u, 0, 0x12, 1);
  wr(u, 1, 0x34, 1);
  EXPECT_EQ(rd(u, 0, 1), 0x12u);
  EXPECT_EQ(rd(u, 1, 1), 0x34u);
  wr(u, 3, 0x03, 1);
  EXPECT_EQ(rd(u, 1, 1), 0u);
  EXPECT_EQ(rd(u, 3, 1), 0x03u);
  EXPECT_EQ(sink.out, "");
  wr(u, 7, 0x5a, 1);
  EXPECT_EQ(rd(u, 7, 1), 0x5au);
  EXPECT_EQ(rd(u, 0x80, 1), 0u);
}

// ---- CLINT --------------------------------------------------------------------

TEST(Clint, MsipDrivesTheSoftwareInterruptLine) {
  FakeLines lines;
  FakeClock clock;
  Clint c(lines, clock, 4);
  wr(c, 4 * 2, 1);
  EXPECT_TRUE(lines.get(2, rv64::kMSI));
  EXPECT_FALSE(lines.get(1, rv64::kMSI));
  EXPECT_EQ(rd(c, 4 * 2), 1u);
  wr(c, 4 * 2, 0xfffffffe);  // only bit 0 counts
  EXPECT_FALSE(lines.get(2, rv64::kMSI));
  EXPECT_EQ(rd(c, 4 * 2), 0u);
  wr(c, 4 * 9, 1);  // no such hart: ignored
  EXPECT_EQ(rd(c, 4 * 9), 0u);
}

TEST(Clint, MtimecmpComparesWithTheClockAndWakesTheHart) {
  FakeLines lines;
  FakeClock clock;
  clock.t = 1000;
  Clint c(lines, clock, 2);
  EXPECT_EQ(c.mtimecmp(1), ~0ull);
  EXPECT_EQ(rd(c, Clint::kMtimeOffset, 8), 1000u);
  EXPECT_EQ(rd(c, Clint::kMtimeOffset, 4), 1000u);
  EXPECT_EQ(rd(c, Clint::kMtimeOffset + 4, 4), 0u);
  wr(c, Clint::kMtimecmpBase + 8, 2000, 8);
  EXPECT_EQ(c.mtimecmp(1), 2000u);
  EXPECT_FALSE(lines.get(1, rv64::kMTI));
  EXPECT_EQ(lines.timer_changes[1], 1);
  wr(c, Clint::kMtimecmpBase + 8, 999, 8);
  EXPECT_TRUE(lines.get(1, rv64::kMTI));
  // 32-bit halves, as RV32 software writes them.
  wr(c, Clint::kMtimecmpBase + 4, 0x1, 4);
  EXPECT_EQ(c.mtimecmp(0), 0x1ffffffffull);
  wr(c, Clint::kMtimecmpBase, 0x10, 4);
  EXPECT_EQ(c.mtimecmp(0), 0x100000010ull);
  EXPECT_EQ(rd(c, Clint::kMtimecmpBase + 4, 4), 1u);
  EXPECT_EQ(rd(c, Clint::kMtimecmpBase, 8), 0x100000010ull);
  EXPECT_FALSE(lines.get(0, rv64::kMTI));
  c.reset();
  EXPECT_EQ(c.mtimecmp(0), ~0ull);
  EXPECT_FALSE(lines.get(1, rv64::kMTI));
}

// ---- test finisher --------------------------------------------------------------

TEST(TestDevice, PassFailAndReset) {
  std::vector<int> statuses;
  int reboots = 0;
  TestDevice t([&](int s) { statuses.push_back(s); }, [&] { ++reboots; });
  wr(t, 0, 0x5555);
  wr(t, 0, (42u << 16) | 0x3333);
  wr(t, 0, 0x7777);
  wr(t, 0, 0x1234);  // unknown: ignored
  wr(t, 8, 0x5555);  // other offsets: ignored
  EXPECT_EQ(statuses, (std::vector<int>{0, 42}));
  EXPECT_EQ(reboots, 1);
  EXPECT_EQ(rd(t, 0), 0u);
}

// ---- HTIF ---------------------------------------------------------------------

struct HtifFixture : ::testing::Test {
  FakeRam ram;
  std::string console;
  std::vector<int> exits;
  static constexpr uint64_t kTohost = FakeRam::kBase + 0x1000, kFromhost = FakeRam::kBase + 0x1040;
  Htif htif{kTohost, kFromhost,
            Htif::Env{[this](uint64_t pa, void* d, uint64_t n) { return ram.read(pa, d, n); },
                      [this](uint64_t pa, const void* s, uint64_t n) { return ram.write(pa, s, n); },
                      [this](const uint8_t* d, size_t n) { console.append(reinterpret_cast<const char*>(d), n); },
                      [this](int s) { exits.push_back(s); }}};
  void store64(uint64_t pa, uint64_t v) {
    ram.put(pa, v);
    htif.on_store(pa, 8);
  }
};

TEST_F(HtifFixture, ExitCodesFollowTheRiscvTestsConvention) {
  store64(kTohost, 1);
  EXPECT_EQ(ram.get<uint64_t>(kTohost), 0u);  // taken
  store64(kTohost, (5 << 1) | 1);
  EXPECT_EQ(exits, (std::vector<int>{0, 5}));
}

TEST_F(HtifFixture, StoresElsewhereInThePageAreIgnored) {
  store64(kTohost + 8, 1);
  store64(kTohost - 8, 1);
  ram.put<uint32_t>(kTohost, 1);  // low half of a two-part write
  htif.on_store(kTohost, 4);
  EXPECT_TRUE(exits.empty());
  ram.put<uint32_t>(kTohost + 4, 0);  // the high half completes it
  htif.on_store(kTohost + 4, 4);
  EXPECT_EQ(exits, (std::vector<int>{0}));
}

TEST_F(HtifFixture, ConsolePutcharIsAcknowledged) {
  store64(kTohost, (1ull << 56) | (1ull << 48) | 'K');
  EXPECT_EQ(console, "K");
  EXPECT_NE(ram.get<uint64_t>(kFromhost), 0u);
  EXPECT_TRUE(exits.empty());
}

TEST_F(HtifFixture, SyscallWriteAndExit) {
  const uint64_t block = FakeRam::kBase + 0x2000, buf = FakeRam::kBase + 0x3000;
  std::string msg = "hello, htif\n";
  ASSERT_TRUE(ram.write(buf, msg.data(), msg.size()));
  uint64_t args[8] = {Htif::kSysWrite, 1, buf, msg.size()};
  ASSERT_TRUE(ram.write(block, args, sizeof args));
  store64(kTohost, block);
  EXPECT_EQ(console, msg);
  EXPECT_EQ(ram.get<uint64_t>(block), msg.size());
  EXPECT_EQ(ram.get<uint64_t>(kFromhost), 1u);
  // A bad buffer gives -EFAULT, an unknown call -ENOSYS.
  uint64_t bad[8] = {Htif::kSysWrite, 2, 0x1000, 4};
  ASSERT_TRUE(ram.write(block, bad, sizeof bad));
  store64(kTohost, block);
  EXPECT_EQ(static_cast<int64_t>(ram.get<uint64_t>(block)), -14);
  uint64_t unknown[8] = {12345};
  ASSERT_TRUE(ram.write(block, unknown, sizeof unknown));
  store64(kTohost, block);
  EXPECT_EQ(static_cast<int64_t>(ram.get<uint64_t>(block)), -38);
  uint64_t ex[8] = {Htif::kSysExit, 7};
  ASSERT_TRUE(ram.write(block, ex, sizeof ex));
  store64(kTohost, block);
  EXPECT_EQ(exits, (std::vector<int>{7}));
}

// ---- virtio-blk -----------------------------------------------------------------

constexpr uint64_t kDesc = FakeRam::kBase, kAvail = FakeRam::kBase + 0x1000, kUsed = FakeRam::kBase + 0x2000;
constexpr uint64_t kHdr = FakeRam::kBase + 0x3000, kData = FakeRam::kBase + 0x4000, kStatus = FakeRam::kBase + 0x8000;
constexpr uint64_t kIndirect = FakeRam::kBase + 0x9000;
constexpr unsigned kVirtioIrq = 8, kQueueNum = 8;

std::vector<uint8_t> disk_pattern(unsigned sectors) {
  std::vector<uint8_t> d(sectors * 512);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i / 512 * 16 + i % 7);
  return d;
}

struct VirtioFixture : ::testing::Test {
  TempDir dir;
  FakeRam ram;
  FakeIrq irq;
  std::vector<uint8_t> disk = disk_pattern(16);
  std::string image = dir.file("disk.img", disk);
  VirtioBlk dev{irq, kVirtioIrq,
                VirtioBlk::GuestMemory{[this](uint64_t pa, void* d, uint64_t n) { return ram.read(pa, d, n); },
                                       [this](uint64_t pa, const void* s, uint64_t n) { return ram.write(pa, s, n); }}};
  uint16_t avail_idx = 0;

  uint32_t reg(uint64_t off) { return static_cast<uint32_t>(rd(dev, off)); }
  void set(uint64_t off, uint32_t v) { wr(dev, off, v); }

  // The driver side of device initialisation (virtio 1.x, section 3.1).
  void init(bool readonly = false) {
    dev.attach(image, readonly, "serial-123");
    set(VirtioBlk::kStatus, VirtioBlk::kAcknowledge | VirtioBlk::kDriver);
    set(VirtioBlk::kDriverFeaturesSel, 1);
    set(VirtioBlk::kDriverFeatures, 1);  // VIRTIO_F_VERSION_1
    set(VirtioBlk::kDriverFeaturesSel, 0);
    set(VirtioBlk::kDriverFeatures, (1u << VirtioBlk::kFFlush) | (1u << VirtioBlk::kFIndirectDesc));
    set(VirtioBlk::kStatus, VirtioBlk::kAcknowledge | VirtioBlk::kDriver | VirtioBlk::kFeaturesOk);
    ASSERT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kFeaturesOk);
    set(VirtioBlk::kQueueSel, 0);
    ASSERT_EQ(reg(VirtioBlk::kQueueNumMax), VirtioBlk::kQueueSize);
    set(VirtioBlk::kQueueNum, kQueueNum);
    set(VirtioBlk::kQueueDescLow, static_cast<uint32_t>(kDesc));
    set(VirtioBlk::kQueueDescHigh, static_cast<uint32_t>(kDesc >> 32));
    set(VirtioBlk::kQueueDriverLow, static_cast<uint32_t>(kAvail));
    set(VirtioBlk::kQueueDriverHigh, 0);
    set(VirtioBlk::kQueueDeviceLow, static_cast<uint32_t>(kUsed));
    set(VirtioBlk::kQueueDeviceHigh, 0);
    set(VirtioBlk::kQueueReady, 1);
    set(VirtioBlk::kStatus,
        VirtioBlk::kAcknowledge | VirtioBlk::kDriver | VirtioBlk::kFeaturesOk | VirtioBlk::kDriverOk);
  }
  void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    ram.put<uint64_t>(table + 16 * i, addr);
    ram.put<uint32_t>(table + 16 * i + 8, len);
    ram.put<uint16_t>(table + 16 * i + 12, flags);
    ram.put<uint16_t>(table + 16 * i + 14, next);
  }
  void header(uint32_t type, uint64_t sector) {
    ram.put<uint32_t>(kHdr, type);
    ram.put<uint32_t>(kHdr + 4, 0);
    ram.put<uint64_t>(kHdr + 8, sector);
    ram.put<uint8_t>(kStatus, 0xff);
  }
  // A three-descriptor request: header, data, status.
  void request(uint32_t type, uint64_t sector, uint32_t len, bool device_writes_data) {
    header(type, sector);
    desc(kDesc, 0, kHdr, 16, 1, 1);
    desc(kDesc, 1, kData, len, 1 | (device_writes_data ? 2 : 0), 2);
    desc(kDesc, 2, kStatus, 1, 2);
  }
  void submit(uint16_t head) {
    ram.put<uint16_t>(kAvail + 4 + 2 * (avail_idx % kQueueNum), head);
    ++avail_idx;
    ram.put<uint16_t>(kAvail + 2, avail_idx);
    set(VirtioBlk::kQueueNotify, 0);
  }
  uint16_t used_idx() { return ram.get<uint16_t>(kUsed + 2); }
  uint32_t used_len(unsigned n) { return ram.get<uint32_t>(kUsed + 4 + 8 * (n % kQueueNum) + 4); }
  std::vector<uint8_t> file_contents() {
    std::ifstream f(image, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
  }
};

TEST_F(VirtioFixture, EmptyTransportIdentifiesAsNoDevice) {
  EXPECT_EQ(reg(VirtioBlk::kMagic), 0x74726976u);
  EXPECT_EQ(reg(VirtioBlk::kVersion), 2u);
  EXPECT_EQ(reg(VirtioBlk::kDeviceId), 0u);
  EXPECT_EQ(reg(VirtioBlk::kQueueNumMax), 0u);
  set(VirtioBlk::kStatus, 1);
  EXPECT_EQ(reg(VirtioBlk::kStatus), 0u);
}

TEST_F(VirtioFixture, IdentityFeaturesAndConfig) {
  dev.attach(image, false, "s");
  EXPECT_EQ(reg(VirtioBlk::kDeviceId), 2u);
  EXPECT_EQ(reg(VirtioBlk::kVendorId), 0x554d4551u);
  set(VirtioBlk::kDeviceFeaturesSel, 1);
  EXPECT_EQ(reg(VirtioBlk::kDeviceFeatures), 1u);  // VERSION_1
  set(VirtioBlk::kDeviceFeaturesSel, 0);
  uint32_t lo = reg(VirtioBlk::kDeviceFeatures);
  EXPECT_TRUE(lo & (1u << VirtioBlk::kFSegMax));
  EXPECT_TRUE(lo & (1u << VirtioBlk::kFBlkSize));
  EXPECT_TRUE(lo & (1u << VirtioBlk::kFFlush));
  EXPECT_FALSE(lo & (1u << VirtioBlk::kFRo));
  EXPECT_EQ(rd(dev, VirtioBlk::kConfig, 8), 16u);       // capacity in sectors
  EXPECT_EQ(rd(dev, VirtioBlk::kConfig, 4), 16u);       // 32-bit halves work too
  EXPECT_EQ(rd(dev, VirtioBlk::kConfig + 4, 4), 0u);
  EXPECT_EQ(rd(dev, VirtioBlk::kConfig + 0x14, 4), 512u);  // blk_size
  EXPECT_EQ(rd(dev, VirtioBlk::kConfig + 0x0c, 4), VirtioBlk::kQueueSize - 2);  // seg_max
  EXPECT_EQ(reg(VirtioBlk::kConfigGeneration), 0u);
}

// A driver that never acknowledges VIRTIO_F_VERSION_1 (xv6 writes only the
// low feature word) is accepted, as QEMU does; one asking for a feature the
// device does not offer is refused.
TEST_F(VirtioFixture, FeaturesWithoutVersion1AreAcceptedUnofferedOnesRefused) {
  dev.attach(image, false, "s");
  set(VirtioBlk::kStatus, 3);
  set(VirtioBlk::kDriverFeaturesSel, 0);
  set(VirtioBlk::kDriverFeatures, 1u << VirtioBlk::kFFlush);
  set(VirtioBlk::kStatus, 3 | VirtioBlk::kFeaturesOk);
  EXPECT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kFeaturesOk);
  set(VirtioBlk::kStatus, 0);
  set(VirtioBlk::kStatus, 3);
  set(VirtioBlk::kDriverFeatures, 1u << 3);  // not offered
  set(VirtioBlk::kStatus, 3 | VirtioBlk::kFeaturesOk);
  EXPECT_FALSE(reg(VirtioBlk::kStatus) & VirtioBlk::kFeaturesOk);
}

TEST_F(VirtioFixture, ReadsSectorsIntoGuestMemory) {
  init();
  request(VirtioBlk::kTIn, 3, 1024, true);
  submit(0);
  EXPECT_EQ(used_idx(), 1);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
  EXPECT_EQ(used_len(0), 1025u);
  EXPECT_EQ(0, std::memcmp(&ram.mem[kData - FakeRam::kBase], &disk[3 * 512], 1024));
  EXPECT_TRUE(irq.level[kVirtioIrq]);
  EXPECT_EQ(reg(VirtioBlk::kInterruptStatus), 1u);
  set(VirtioBlk::kInterruptAck, 1);
  EXPECT_FALSE(irq.level[kVirtioIrq]);
  EXPECT_EQ(reg(VirtioBlk::kInterruptStatus), 0u);
}

TEST_F(VirtioFixture, WritesReachTheImageFile) {
  init();
  for (unsigned i = 0; i < 512; ++i) ram.put<uint8_t>(kData + i, static_cast<uint8_t>(0xa5 ^ i));
  request(VirtioBlk::kTOut, 15, 512, false);
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
  EXPECT_EQ(used_len(0), 1u);
  std::vector<uint8_t> f = file_contents();
  ASSERT_EQ(f.size(), disk.size());
  for (unsigned i = 0; i < 512; ++i) ASSERT_EQ(f[15 * 512 + i], static_cast<uint8_t>(0xa5 ^ i));
  EXPECT_EQ(0, std::memcmp(f.data(), disk.data(), 15 * 512));
  // Flush, then several requests in one notification.
  request(VirtioBlk::kTFlush, 0, 0, false);
  desc(kDesc, 0, kHdr, 16, 1, 2);  // header straight to status
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
  EXPECT_EQ(used_idx(), 2);
}

TEST_F(VirtioFixture, OutOfRangeAndUnalignedRequestsFailWithIoErr) {
  init();
  request(VirtioBlk::kTIn, 15, 1024, true);  // runs past the last sector
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSIoErr);
  request(VirtioBlk::kTIn, ~0ull, 512, true);
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSIoErr);
  request(VirtioBlk::kTOut, 0, 100, false);  // not whole sectors
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSIoErr);
  request(77, 0, 512, true);
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSUnsupp);
  EXPECT_EQ(used_idx(), 4);
  EXPECT_FALSE(reg(VirtioBlk::kStatus) & VirtioBlk::kNeedsReset);
  EXPECT_EQ(file_contents(), disk);
}

TEST_F(VirtioFixture, ReadOnlyDrivesAdvertiseRoAndRefuseWrites) {
  init(true);
  set(VirtioBlk::kDeviceFeaturesSel, 0);
  EXPECT_TRUE(reg(VirtioBlk::kDeviceFeatures) & (1u << VirtioBlk::kFRo));
  request(VirtioBlk::kTOut, 0, 512, false);
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSIoErr);
  EXPECT_EQ(file_contents(), disk);
  request(VirtioBlk::kTIn, 0, 512, true);
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
}

TEST_F(VirtioFixture, GetIdReturnsTheSerial) {
  init();
  request(VirtioBlk::kTGetId, 0, 20, true);
  submit(0);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&ram.mem[kData - FakeRam::kBase])), "serial-123");
}

TEST_F(VirtioFixture, IndirectDescriptorsAndSplitBuffers) {
  init();
  header(VirtioBlk::kTIn, 1);
  // Header split over two buffers; data over two; status last.
  desc(kIndirect, 0, kHdr, 10, 1, 1);
  desc(kIndirect, 1, kHdr + 10, 6, 1, 2);
  desc(kIndirect, 2, kData, 300, 3, 3);
  desc(kIndirect, 3, kData + 0x1000, 212, 3, 4);
  desc(kIndirect, 4, kStatus, 1, 2);
  desc(kDesc, 5, kIndirect, 5 * 16, 4);
  submit(5);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
  EXPECT_EQ(ram.get<uint32_t>(kUsed + 4), 5u);  // used element id = head
  EXPECT_EQ(0, std::memcmp(&ram.mem[kData - FakeRam::kBase], &disk[512], 300));
  EXPECT_EQ(0, std::memcmp(&ram.mem[kData + 0x1000 - FakeRam::kBase], &disk[512 + 300], 212));
}

TEST_F(VirtioFixture, NoInterruptFlagSuppressesTheInterrupt) {
  init();
  ram.put<uint16_t>(kAvail, 1);
  request(VirtioBlk::kTIn, 0, 512, true);
  submit(0);
  EXPECT_EQ(used_idx(), 1);
  EXPECT_FALSE(irq.level[kVirtioIrq]);
}

TEST_F(VirtioFixture, BufferOutsideRamNeedsReset) {
  init();
  request(VirtioBlk::kTIn, 0, 512, true);
  desc(kDesc, 1, 0x1000, 512, 3, 2);  // not RAM
  submit(0);
  EXPECT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kNeedsReset);
  EXPECT_EQ(used_idx(), 0);
  EXPECT_EQ(reg(VirtioBlk::kInterruptStatus), 2u);  // configuration change
  EXPECT_TRUE(irq.level[kVirtioIrq]);
  // Further notifications are ignored until the driver resets the device.
  request(VirtioBlk::kTIn, 0, 512, true);
  submit(0);
  EXPECT_EQ(used_idx(), 0);
  set(VirtioBlk::kStatus, 0);
  EXPECT_EQ(reg(VirtioBlk::kStatus), 0u);
  EXPECT_FALSE(irq.level[kVirtioIrq]);
  EXPECT_EQ(reg(VirtioBlk::kQueueReady), 0u);
}

TEST_F(VirtioFixture, DescriptorLoopsNeedReset) {
  init();
  header(VirtioBlk::kTIn, 0);
  desc(kDesc, 0, kHdr, 16, 1, 1);
  desc(kDesc, 1, kData, 512, 3, 0);  // back to the head
  submit(0);
  EXPECT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kNeedsReset);
}

TEST_F(VirtioFixture, IndirectLoopsAndBadHeadsNeedReset) {
  init();
  header(VirtioBlk::kTIn, 0);
  desc(kIndirect, 0, kHdr, 16, 1, 1);
  desc(kIndirect, 1, kStatus, 1, 3, 0);
  desc(kDesc, 0, kIndirect, 32, 4);
  submit(0);
  EXPECT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kNeedsReset);

  set(VirtioBlk::kStatus, 0);
  avail_idx = 0;
  ram.put<uint16_t>(kAvail + 2, 0);
  init();
  submit(200);  // head beyond the queue
  EXPECT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kNeedsReset);
}

TEST_F(VirtioFixture, MissingImageIsAConfigError) {
  EXPECT_THROW(dev.attach((dir.path / "nope.img").string(), false, "x"), ConfigError);
  EXPECT_FALSE(dev.attached());
}

// ---- loader -------------------------------------------------------------------

constexpr uint64_t kRamBase = 0x80000000, kRamSize = 16 << 20;

std::vector<uint8_t> make_elf(uint64_t paddr, uint64_t entry, const std::vector<uint8_t>& payload, uint64_t memsz,
                              unsigned char cls = ELFCLASS64, uint16_t mach = EM_RISCV) {
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = cls;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = mach;
  eh.e_version = EV_CURRENT;
  eh.e_entry = entry;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_offset = sizeof eh + sizeof ph;
  ph.p_vaddr = ph.p_paddr = paddr;
  ph.p_filesz = payload.size();
  ph.p_memsz = memsz;
  ph.p_flags = PF_R | PF_X;
  ph.p_align = 8;
  std::vector<uint8_t> f(sizeof eh + sizeof ph + payload.size());
  std::memcpy(f.data(), &eh, sizeof eh);
  std::memcpy(f.data() + sizeof eh, &ph, sizeof ph);
  std::copy(payload.begin(), payload.end(), f.begin() + sizeof eh + sizeof ph);
  return f;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Loader, ElfSegmentsGoToTheirPhysicalAddress) {
  TempDir dir;
  std::string p = dir.file("k.elf", make_elf(0x80400000, 0x80400010, {1, 2, 3, 4}, 64));
  LoadedImage img = load_image(p, "kernel", kRamBase, kRamBase, kRamSize);
  EXPECT_TRUE(img.elf);
  EXPECT_EQ(img.entry, 0x80400010u);
  ASSERT_EQ(img.blobs.size(), 1u);
  EXPECT_EQ(img.blobs[0].addr, 0x80400000u);
  EXPECT_EQ(img.blobs[0].data, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(img.blobs[0].zeros, 60u);
  EXPECT_EQ(img.low, 0x80400000u);
  EXPECT_EQ(img.high, 0x80400040u);
}

TEST(Loader, RawImagesGoToTheGivenAddress) {
  TempDir dir;
  std::string p = dir.file("k.bin", {9, 8, 7});
  LoadedImage img = load_image(p, "kernel", 0x80200000, kRamBase, kRamSize);
  EXPECT_FALSE(img.elf);
  EXPECT_EQ(img.entry, 0x80200000u);
  EXPECT_EQ(img.blobs[0].data, (std::vector<uint8_t>{9, 8, 7}));
  // An ELF file loaded as raw data (initrd) stays raw.
  std::string e = dir.file("i.elf", make_elf(0x80400000, 0, {1}, 1));
  EXPECT_FALSE(load_image(e, "initrd", 0x80000000, kRamBase, kRamSize, false).elf);
}

TEST(Loader, BadFilesGiveClearErrors) {
  TempDir dir;
  std::string missing = (dir.path / "none").string();
  EXPECT_EQ(error_of([&] { load_image(missing, "kernel", kRamBase, kRamBase, kRamSize); }),
            "cannot open kernel '" + missing + "': No such file or directory");
  EXPECT_NE(error_of([&] { load_image(dir.path.string(), "firmware", kRamBase, kRamBase, kRamSize); })
                .find("is a directory: coremu reads images from regular files only"),
            std::string::npos);

  std::string e32 = dir.file("a.elf", make_elf(kRamBase, kRamBase, {1}, 1, ELFCLASS32));
  EXPECT_NE(error_of([&] { load_image(e32, "kernel", kRamBase, kRamBase, kRamSize); }).find("64-bit"),
            std::string::npos);
  std::string x86 = dir.file("b.elf", make_elf(kRamBase, kRamBase, {1}, 1, ELFCLASS64, EM_X86_64));
  EXPECT_NE(error_of([&] { load_image(x86, "kernel", kRamBase, kRamBase, kRamSize); }).find("not a RISC-V"),
            std::string::npos);
  std::string outside = dir.file("c.elf", make_elf(0x1000, 0x1000, {1}, 1));
  EXPECT_NE(error_of([&] { load_image(outside, "kernel", kRamBase, kRamBase, kRamSize); }).find("outside RAM"),
            std::string::npos);
  std::string past_end = dir.file("d.elf", make_elf(kRamBase + kRamSize - 4, 0, {1}, 8));
  EXPECT_NE(error_of([&] { load_image(past_end, "kernel", kRamBase, kRamBase, kRamSize); }).find("outside RAM"),
            std::string::npos);
  std::vector<uint8_t> t = make_elf(kRamBase, kRamBase, std::vector<uint8_t>(100, 1), 100);
  t.resize(t.size() - 50);
  std::string trunc = dir.file("e.elf", t);
  EXPECT_NE(error_of([&] { load_image(trunc, "kernel", kRamBase, kRamBase, kRamSize); }).find("truncated"),
            std::string::npos);
  std::vector<uint8_t> hdr_only = make_elf(kRamBase, kRamBase, {}, 0);
  hdr_only.resize(30);
  std::string tiny = dir.file("f.elf", hdr_only);
  EXPECT_THROW(load_image(tiny, "kernel", kRamBase, kRamBase, kRamSize), ConfigError);
  std::string big = dir.file("g.bin", std::vector<uint8_t>(4096));
  EXPECT_NE(error_of([&] { load_image(big, "kernel", kRamBase + kRamSize - 100, kRamBase, kRamSize); })
                .find("does not fit"),
            std::string::npos);
}

TEST(Loader, SymbolsDescribeAddresses) {
  SymbolTable s;
  s.by_addr = {{0x1000, "start"}, {0x1100, "loop"}};
  EXPECT_EQ(s.describe(0x1000), "start");
  EXPECT_EQ(s.describe(0x1012), "start+0x12");
  EXPECT_EQ(s.describe(0x1104), "loop+0x4");
  EXPECT_EQ(s.describe(0xfff), "");
  EXPECT_EQ(s.describe(0x900000), "");
}

// Builds a small bare-metal ELF with the cross toolchain, if installed.
std::string build_guest(const TempDir& dir, const std::string& asm_src) {
  if (std::system("command -v riscv64-unknown-elf-gcc >/dev/null 2>&1") != 0) return {};
  std::string src = dir.file("g.S", std::vector<uint8_t>(asm_src.begin(), asm_src.end()));
  std::string ld = "ENTRY(_start) SECTIONS { . = 0x80000000; .text : { *(.text*) } . = ALIGN(0x1000);"
                   " .tohost : { *(.tohost) } . = ALIGN(0x1000); .data : { *(.data*) *(.bss*) } }";
  std::string script = dir.file("g.ld", std::vector<uint8_t>(ld.begin(), ld.end()));
  std::string out = (dir.path / "g.elf").string();
  std::string cmd = "riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -nostdlib -nostartfiles -static -T " + script +
                    " -o " + out + " " + src + " 2>&1";
  if (std::system(cmd.c_str()) != 0) return {};
  return out;
}

const char* kHtifGuest = R"(
  .text
  .globl _start
_start:
  li t0, 1
  la t1, tohost
  sd t0, 0(t1)
1: j 1b
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0
)";

TEST(Loader, ElfSymbolsFromTheToolchain) {
  TempDir dir;
  std::string elf = build_guest(dir, kHtifGuest);
  if (elf.empty()) GTEST_SKIP() << "riscv64-unknown-elf-gcc not available";
  LoadedImage img = load_image(elf, "kernel", kRamBase, kRamBase, kRamSize);
  ASSERT_TRUE(img.symbols.by_name.count("_start"));
  ASSERT_TRUE(img.symbols.by_name.count("tohost"));
  ASSERT_TRUE(img.symbols.by_name.count("fromhost"));
  EXPECT_EQ(img.symbols.by_name.at("_start"), 0x80000000u);
  EXPECT_EQ(img.entry, 0x80000000u);
  EXPECT_EQ(img.symbols.describe(0x80000004), "_start+0x4");
  EXPECT_EQ(img.symbols.by_name.at("fromhost") - img.symbols.by_name.at("tohost"), 64u);
}

// ---- device tree ----------------------------------------------------------------

std::vector<uint32_t> cells(const void* fdt, const char* path, const char* prop) {
  int node = fdt_path_offset(fdt, path);
  EXPECT_GE(node, 0) << path;
  int len = 0;
  auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, prop, &len));
  std::vector<uint32_t> out;
  if (!p) {
    ADD_FAILURE() << path << " has no " << prop;
    return out;
  }
  for (int i = 0; i < len / 4; ++i) out.push_back(fdt32_to_cpu(p[i]));
  return out;
}

std::string str(const void* fdt, const char* path, const char* prop) {
  int node = fdt_path_offset(fdt, path);
  if (node < 0) return "(no node)";
  int len = 0;
  auto* p = static_cast<const char*>(fdt_getprop(fdt, node, prop, &len));
  return p ? std::string(p, static_cast<size_t>(len > 0 ? len - 1 : 0)) : "(no prop)";
}

FdtParams params(unsigned harts) {
  FdtParams p;
  p.num_harts = harts;
  p.ram_base = kRamBase;
  p.ram_size = 128 << 20;
  p.plic_size = Plic::window_size(harts);
  return p;
}

TEST(Fdt, OneHart) {
  std::vector<uint8_t> blob = make_fdt(params(1));
  const void* f = blob.data();
  ASSERT_EQ(fdt_check_header(f), 0);
  EXPECT_EQ(fdt_totalsize(f), blob.size());
  EXPECT_EQ(cells(f, "/cpus", "timebase-frequency"), (std::vector<uint32_t>{10000000}));
  EXPECT_EQ(str(f, "/cpus/cpu@0", "riscv,isa"), "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc");
  EXPECT_EQ(str(f, "/cpus/cpu@0", "mmu-type"), "riscv,sv48");
  EXPECT_EQ(str(f, "/cpus/cpu@0", "device_type"), "cpu");
  EXPECT_EQ(str(f, "/cpus/cpu@0", "status"), "okay");
  EXPECT_EQ(str(f, "/cpus/cpu@0/interrupt-controller", "compatible"), "riscv,cpu-intc");
  EXPECT_LT(fdt_path_offset(f, "/cpus/cpu@1"), 0);
  EXPECT_EQ(cells(f, "/memory@80000000", "reg"), (std::vector<uint32_t>{0, 0x80000000, 0, 128 << 20}));
  EXPECT_EQ(str(f, "/chosen", "stdout-path"), "/soc/serial@10000000");
  EXPECT_EQ(str(f, "/chosen", "bootargs"), "(no prop)");
  EXPECT_EQ(str(f, "/soc/serial@10000000", "compatible"), "ns16550a");
  EXPECT_EQ(cells(f, "/soc/serial@10000000", "clock-frequency"), (std::vector<uint32_t>{0x384000}));
  EXPECT_EQ(cells(f, "/soc/serial@10000000", "interrupts"), (std::vector<uint32_t>{10}));
  EXPECT_EQ(cells(f, "/soc/plic@c000000", "riscv,ndev"), (std::vector<uint32_t>{95}));
  EXPECT_EQ(cells(f, "/soc/plic@c000000", "reg"), (std::vector<uint32_t>{0, 0xc000000, 0, 0x600000}));
  for (unsigned n = 0; n < 8; ++n) {
    std::string path = "/soc/virtio_mmio@1000" + std::to_string(n + 1) + "000";
    EXPECT_EQ(str(f, path.c_str(), "compatible"), "virtio,mmio");
    EXPECT_EQ(cells(f, path.c_str(), "interrupts"), (std::vector<uint32_t>{n + 1}));
  }
  EXPECT_EQ(cells(f, "/soc/clint@2000000", "reg"), (std::vector<uint32_t>{0, 0x2000000, 0, 0x10000}));
}

TEST(Fdt, FourHartsWireEveryInterrupt) {
  FdtParams p = params(4);
  p.bootargs = "console=ttyS0 root=/dev/vda";
  p.initrd_start = 0x88000000;
  p.initrd_end = 0x88100000;
  std::vector<uint8_t> blob = make_fdt(p);
  const void* f = blob.data();
  ASSERT_EQ(fdt_check_header(f), 0);
  std::vector<uint32_t> plic = cells(f, "/soc/plic@c000000", "interrupts-extended");
  std::vector<uint32_t> clint = cells(f, "/soc/clint@2000000", "interrupts-extended");
  ASSERT_EQ(plic.size(), 16u);
  ASSERT_EQ(clint.size(), 16u);
  for (unsigned h = 0; h < 4; ++h) {
    std::string cpu = "/cpus/cpu@" + std::to_string(h);
    std::string intc = cpu + "/interrupt-controller";
    EXPECT_EQ(cells(f, cpu.c_str(), "reg"), (std::vector<uint32_t>{h}));
    uint32_t ph = fdt_get_phandle(f, fdt_path_offset(f, intc.c_str()));
    ASSERT_NE(ph, 0u);
    EXPECT_EQ(plic[4 * h], ph);
    EXPECT_EQ(plic[4 * h + 1], 11u);
    EXPECT_EQ(plic[4 * h + 2], ph);
    EXPECT_EQ(plic[4 * h + 3], 9u);
    EXPECT_EQ(clint[4 * h], ph);
    EXPECT_EQ(clint[4 * h + 1], 3u);
    EXPECT_EQ(clint[4 * h + 3], 7u);
  }
  EXPECT_LT(fdt_path_offset(f, "/cpus/cpu-map"), 0);  // see fdt.cpp
  uint32_t plic_ph = fdt_get_phandle(f, fdt_path_offset(f, "/soc/plic@c000000"));
  EXPECT_EQ(cells(f, "/soc/virtio_mmio@10008000", "interrupt-parent")[0], plic_ph);
  uint32_t test_ph = fdt_get_phandle(f, fdt_path_offset(f, "/soc/test@100000"));
  EXPECT_EQ(cells(f, "/poweroff", "regmap")[0], test_ph);
  EXPECT_EQ(cells(f, "/poweroff", "value")[0], 0x5555u);
  EXPECT_EQ(cells(f, "/reboot", "regmap")[0], test_ph);
  EXPECT_EQ(cells(f, "/reboot", "value")[0], 0x7777u);
  EXPECT_EQ(str(f, "/chosen", "bootargs"), p.bootargs);
  EXPECT_EQ(cells(f, "/chosen", "linux,initrd-start"), (std::vector<uint32_t>{0, 0x88000000}));
  EXPECT_EQ(cells(f, "/chosen", "linux,initrd-end"), (std::vector<uint32_t>{0, 0x88100000}));
  // The first virtio transport listed is the highest, as on QEMU.
  int soc = fdt_path_offset(f, "/soc");
  int first_virtio = -1;
  for (int n = fdt_first_subnode(f, soc); n >= 0; n = fdt_next_subnode(f, n))
    if (std::string(fdt_get_name(f, n, nullptr)).rfind("virtio_mmio@", 0) == 0) {
      first_virtio = n;
      break;
    }
  ASSERT_GE(first_virtio, 0);
  EXPECT_STREQ(fdt_get_name(f, first_virtio, nullptr), "virtio_mmio@10008000");
}

TEST(Fdt, UserBlobsAreValidatedAndPatched) {
  FdtParams p = params(1);
  EXPECT_THROW(patch_fdt(std::vector<uint8_t>(100, 0), "x.dtb", p), ConfigError);
  EXPECT_THROW(patch_fdt(std::vector<uint8_t>(10, 0), "x.dtb", p), ConfigError);
  std::vector<uint8_t> blob = make_fdt(p);
  std::vector<uint8_t> cut(blob.begin(), blob.begin() + static_cast<long>(blob.size() / 2));
  EXPECT_THROW(patch_fdt(cut, "x.dtb", p), ConfigError);
  FdtParams q = p;
  q.bootargs = "quiet";
  std::vector<uint8_t> patched = patch_fdt(blob, "x.dtb", q);
  EXPECT_EQ(fdt_check_header(patched.data()), 0);
  EXPECT_EQ(str(patched.data(), "/chosen", "bootargs"), "quiet");
  EXPECT_EQ(patch_fdt(blob, "x.dtb", p), blob);  // nothing to change
}

TEST(Fdt, LoadAddressFollowsQemu) {
  EXPECT_EQ(fdt_load_addr(kRamBase, 128 << 20, 0x1000), 0x87e00000u);
  EXPECT_EQ(fdt_load_addr(kRamBase, 4ull << 30, 0x1000), 0xbfe00000u);  // below 3 GiB
  EXPECT_EQ(fdt_load_addr(kRamBase, 1 << 20, 0x1000), kRamBase);
}

// ---- the assembled machine ----------------------------------------------------------

struct MachineFixture : ::testing::Test {
  TempDir dir;
  FakeLines lines;
  FakeClock clock;
  MachineConfig cfg;
  MachineFixture() {
    cfg.smp = 2;
    cfg.ram_size = 16 << 20;
  }
  std::string kernel(const std::vector<uint8_t>& data = {0x13, 0, 0, 0}) { return dir.file("kernel.bin", data); }
  std::string disk(const std::string& name) { return dir.file(name, disk_pattern(4)); }
};

TEST_F(MachineFixture, ResetRomJumpsToTheKernelWithHartIdAndFdt) {
  cfg.kernel = kernel();
  Machine m(cfg, lines, clock);
  EXPECT_EQ(m.num_harts(), 2u);
  EXPECT_EQ(m.hart(1).pc, memmap::kMromBase);
  EXPECT_EQ(m.entry(), 0x80000000u);
  EXPECT_EQ(m.fdt_addr(), 0x80e00000u);
  uint32_t code[6];
  ASSERT_TRUE(m.read_phys(memmap::kMromBase, code, sizeof code));
  EXPECT_EQ(code[0], 0x00000297u);  // auipc t0, 0
  EXPECT_EQ(code[1], 0x02828613u);  // addi a2, t0, 40
  EXPECT_EQ(code[2], 0xf1402573u);  // csrr a0, mhartid
  EXPECT_EQ(code[3], 0x0202b583u);  // ld a1, 32(t0)
  EXPECT_EQ(code[4], 0x0182b283u);  // ld t0, 24(t0)
  EXPECT_EQ(code[5], 0x00028067u);  // jr t0
  uint64_t words[8];
  ASSERT_TRUE(m.read_phys(memmap::kMromBase + 24, words, sizeof words));
  EXPECT_EQ(words[0], 0x80000000u);
  EXPECT_EQ(words[1], m.fdt_addr());
  EXPECT_EQ(words[2], 0x4942534fu);  // fw_dynamic_info
  EXPECT_EQ(words[3], 2u);
  EXPECT_EQ(words[4], 0x80000000u);
  EXPECT_EQ(words[5], 1u);
  EXPECT_EQ(words[7], ~0ull);
  std::vector<uint8_t> fdt(m.fdt().size());
  ASSERT_TRUE(m.read_phys(m.fdt_addr(), fdt.data(), fdt.size()));
  EXPECT_EQ(fdt, m.fdt());
  EXPECT_EQ(cells(fdt.data(), "/memory@80000000", "reg")[3], 16u << 20);
  uint32_t insn = 0;
  ASSERT_TRUE(m.read_phys(0x80000000, &insn, 4));
  EXPECT_EQ(insn, 0x13u);
}

TEST_F(MachineFixture, FirmwareAndKernelPlacement) {
  cfg.bios = dir.file("fw.bin", {1, 2, 3, 4});
  cfg.kernel = kernel();
  cfg.initrd = dir.file("initrd", std::vector<uint8_t>(10000, 7));
  cfg.append = "console=ttyS0";
  Machine m(cfg, lines, clock);
  EXPECT_EQ(m.entry(), 0x80000000u);
  uint64_t next = 0;
  ASSERT_TRUE(m.read_phys(memmap::kMromBase + 40 + 16, &next, 8));
  EXPECT_EQ(next, 0x80200000u);  // fw_jump's address
  uint32_t insn = 0;
  ASSERT_TRUE(m.read_phys(0x80200000, &insn, 4));
  EXPECT_EQ(insn, 0x13u);
  const void* f = m.fdt().data();
  EXPECT_EQ(str(f, "/chosen", "bootargs"), "console=ttyS0");
  std::vector<uint32_t> s = cells(f, "/chosen", "linux,initrd-start"), e = cells(f, "/chosen", "linux,initrd-end");
  uint64_t start = (uint64_t{s[0]} << 32) | s[1], end = (uint64_t{e[0]} << 32) | e[1];
  EXPECT_EQ(end - start, 10000u);
  EXPECT_GE(start, 0x80200004u);
  EXPECT_LE(end, m.fdt_addr());
  uint8_t b = 0;
  ASSERT_TRUE(m.read_phys(start + 9999, &b, 1));
  EXPECT_EQ(b, 7);
}

TEST_F(MachineFixture, DevicesAreDecodedAndRamIsDirect) {
  cfg.kernel = kernel();
  Machine m(cfg, lines, clock);
  Sink sink;
  m.set_serial_backend(&sink);
  EXPECT_TRUE(m.store(memmap::kUartBase, 1, 'Z'));
  EXPECT_EQ(sink.out, "Z");
  uint64_t v = 0;
  EXPECT_TRUE(m.load(memmap::kUartBase + 5, 1, v));
  EXPECT_EQ(v & 0x60, 0x60u);
  EXPECT_EQ(m.serial_input(reinterpret_cast<const uint8_t*>("q"), 1), 1u);
  EXPECT_TRUE(m.load(memmap::kUartBase, 1, v));
  EXPECT_EQ(v, static_cast<uint64_t>('q'));
  clock.t = 12345;
  EXPECT_TRUE(m.load(memmap::kClintBase + 0xbff8, 8, v));
  EXPECT_EQ(v, 12345u);
  EXPECT_EQ(m.mtime(), 12345u);
  EXPECT_TRUE(m.store(memmap::kClintBase + 0x4000 + 8, 8, 99999));
  EXPECT_EQ(m.mtimecmp(1), 99999u);
  EXPECT_EQ(m.mtimecmp(0), ~0ull);
  EXPECT_TRUE(m.store(memmap::kClintBase + 4, 4, 1));
  EXPECT_TRUE(lines.get(1, rv64::kMSI));
  EXPECT_TRUE(m.load(memmap::kVirtioBase, 4, v));
  EXPECT_EQ(v, 0x74726976u);
  EXPECT_FALSE(m.load(0x30000000, 4, v));  // nothing there
  EXPECT_FALSE(m.store(0x0, 4, 0));
  EXPECT_TRUE(m.load(memmap::kPlicBase + 0x200004, 4, v));  // claim, hart 0 M
  EXPECT_TRUE(m.load(memmap::kPlicBase + 0x200000 + 0x1000 * 4, 4, v));  // context 4: no such hart
  EXPECT_EQ(v, 0u);

  EXPECT_EQ(m.direct_page(0x80001234, true), m.ram().ptr(0x80001000));
  EXPECT_NE(m.direct_page(0x1000, false), nullptr);
  EXPECT_EQ(m.direct_page(0x1000, true), nullptr);
  EXPECT_EQ(m.direct_page(memmap::kUartBase, false), nullptr);
  EXPECT_EQ(m.direct_page(0x80000000 + (16 << 20), false), nullptr);
  EXPECT_TRUE(m.store(0x1000, 4, 0));  // ROM writes are ignored
  EXPECT_TRUE(m.load(0x1000, 4, v));
  EXPECT_EQ(v, 0x297u);

  // Loader/debugger writes invalidate decoded code.
  m.ram().mark_code(0x80002000);
  uint32_t gen = m.ram().generation(0x80002000).load();
  uint32_t word = 0x12345678;
  EXPECT_TRUE(m.write_phys(0x80002ffe, &word, 4));
  EXPECT_NE(m.ram().generation(0x80002000).load(), gen);
  EXPECT_FALSE(m.write_phys(0x80000000 + (16 << 20) - 2, &word, 4));
  EXPECT_FALSE(m.read_phys(0x10000000, &word, 4));
}

TEST_F(MachineFixture, TestFinisherShutsDownOnceAndReboots) {
  cfg.kernel = kernel();
  Machine m(cfg, lines, clock);
  int calls = 0;
  m.on_shutdown = [&] { ++calls; };
  EXPECT_FALSE(m.shutdown_status());
  EXPECT_TRUE(m.store(memmap::kTestBase, 4, 0x7777));
  EXPECT_TRUE(m.reboot_requested());
  EXPECT_FALSE(m.shutdown_status());
  m.clear_reboot();
  EXPECT_TRUE(m.store(memmap::kTestBase, 4, (3u << 16) | 0x3333));
  EXPECT_TRUE(m.store(memmap::kTestBase, 4, 0x5555));
  EXPECT_EQ(m.shutdown_status(), 3);
  EXPECT_EQ(calls, 2);

  MachineConfig c2 = cfg;
  c2.no_reboot = true;
  Machine m2(c2, lines, clock);
  EXPECT_TRUE(m2.store(memmap::kTestBase, 4, 0x7777));
  EXPECT_FALSE(m2.reboot_requested());
  EXPECT_EQ(m2.shutdown_status(), 0);
}

TEST_F(MachineFixture, ResetRestoresTheImages) {
  cfg.kernel = kernel({0x13, 0, 0, 0, 0x6f, 0, 0, 0});
  Machine m(cfg, lines, clock);
  uint64_t junk = ~0ull;
  ASSERT_TRUE(m.write_phys(0x80000000, &junk, 8));
  m.hart(0).pc = 0x80000000;
  m.reset();
  uint64_t w = 0;
  ASSERT_TRUE(m.read_phys(0x80000000, &w, 8));
  EXPECT_EQ(w, 0x0000006f00000013ull);
  EXPECT_EQ(m.hart(0).pc, memmap::kMromBase);
}

TEST_F(MachineFixture, VirtioDisksTakeTheHighestFreeTransport) {
  cfg.kernel = kernel();
  cfg.drives = {{"a", disk("a.img")}, {"b", disk("b.img")}, {"c", disk("c.img")}};
  cfg.blk_devices = {{"a", -1}, {"b", -1}, {"c", 0}};
  Machine m(cfg, lines, clock);
  auto id = [&](unsigned n) {
    uint64_t v = 0;
    EXPECT_TRUE(m.load(memmap::kVirtioBase + n * memmap::kVirtioStride + 8, 4, v));
    return v;
  };
  EXPECT_EQ(id(7), 2u);
  EXPECT_EQ(id(6), 2u);
  EXPECT_EQ(id(0), 2u);
  for (unsigned n = 1; n < 6; ++n) EXPECT_EQ(id(n), 0u);
  uint64_t cap = 0;
  EXPECT_TRUE(m.load(memmap::kVirtioBase + 7 * memmap::kVirtioStride + 0x100, 8, cap));
  EXPECT_EQ(cap, 4u);
}

TEST_F(MachineFixture, ConfigurationErrors) {
  cfg.kernel = kernel();
  auto err = [&](MachineConfig c) { return error_of([&] { Machine m(c, lines, clock); }); };
  MachineConfig c = cfg;
  c.smp = 0;
  EXPECT_NE(err(c).find("-smp"), std::string::npos);
  c = cfg;
  c.ram_size = (16 << 20) + 100;
  EXPECT_NE(err(c).find("4 KiB"), std::string::npos);
  c = cfg;
  c.blk_devices = {{"nope", -1}};
  EXPECT_NE(err(c).find("no drive with id 'nope'"), std::string::npos);
  c = cfg;
  c.drives = {{"a", disk("a.img")}, {"b", disk("b.img")}};
  c.blk_devices = {{"a", 3}, {"b", 3}};
  EXPECT_NE(err(c).find("virtio-mmio-bus.3"), std::string::npos);
  c = cfg;
  c.drives = {{"a", (dir.path / "missing.img").string()}};
  c.blk_devices = {{"a", -1}};
  EXPECT_NE(err(c).find("missing.img"), std::string::npos);
  c = cfg;
  c.drives = {{"a", disk("a.img"), "qcow2"}};
  EXPECT_NE(err(c).find("qcow2"), std::string::npos);
  c = cfg;
  c.kernel = (dir.path / "vmlinux").string();
  EXPECT_EQ(err(c), "cannot open kernel '" + c.kernel + "': No such file or directory");
  c = cfg;
  c.bios = dir.file("fw.elf", make_elf(0x80000000, 0x80000000, {1}, 0x300000));
  c.kernel = dir.file("k.elf", make_elf(0x80200000, 0x80200000, {1}, 16));
  EXPECT_NE(err(c).find("overlaps firmware"), std::string::npos);
  c = cfg;
  c.kernel = dir.file("huge.bin", std::vector<uint8_t>(17 << 20));
  EXPECT_NE(err(c).find("does not fit"), std::string::npos);
  c = cfg;
  c.dtb = dir.file("bad.dtb", {1, 2, 3});
  EXPECT_NE(err(c).find("bad.dtb"), std::string::npos);
}

// --symbols FILE: an ELF's names join the table (winning), without loading
// anything; anything but an ELF with symbols is refused by name.
TEST_F(MachineFixture, AddSymbolsFromAnElf) {
  std::string elf = build_guest(dir, kHtifGuest);
  if (elf.empty()) GTEST_SKIP() << "riscv64-unknown-elf-gcc not available";
  Machine m(cfg, lines, clock);  // no kernel: no symbols
  EXPECT_TRUE(m.symbols().by_name.empty());
  std::vector<uint8_t> before(64);
  ASSERT_TRUE(m.read_phys(0x80000000, before.data(), before.size()));
  m.add_symbols(elf);
  EXPECT_TRUE(m.symbols().by_name.count("tohost"));
  uint64_t tohost = m.symbols().by_name.at("tohost");
  EXPECT_EQ(m.symbols().describe(tohost), "tohost");
  std::vector<uint8_t> after(64);
  ASSERT_TRUE(m.read_phys(0x80000000, after.data(), after.size()));
  EXPECT_EQ(before, after);  // nothing was loaded
  auto add_err = [&](const std::string& path) {
    try {
      m.add_symbols(path);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(add_err(dir.file("raw.bin", {1, 2, 3, 4, 5})).find("not an ELF file"), std::string::npos);
  EXPECT_NE(add_err((dir.path / "missing.elf").string()).find("cannot open symbol file"), std::string::npos);
}

TEST_F(MachineFixture, HtifOverlayOnTheTohostPage) {
  std::string elf = build_guest(dir, kHtifGuest);
  if (elf.empty()) GTEST_SKIP() << "riscv64-unknown-elf-gcc not available";
  cfg.kernel = elf;
  Machine m(cfg, lines, clock);
  uint64_t tohost = m.symbols().by_name.at("tohost");
  EXPECT_EQ(m.direct_page(tohost, false), m.ram().ptr(tohost & ~0xfffull));  // loads and fetches stay fast
  EXPECT_EQ(m.direct_page(tohost, true), nullptr);                          // stores reach the device
  EXPECT_NE(m.direct_page(0x80000000, true), nullptr);
  Sink sink;
  m.set_serial_backend(&sink);
  EXPECT_TRUE(m.store(tohost, 8, (1ull << 56) | (1ull << 48) | '!'));
  EXPECT_EQ(sink.out, "!");
  uint64_t v = 1;
  EXPECT_TRUE(m.load(tohost, 8, v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(m.store(tohost + 0x80, 8, 1));  // plain RAM
  EXPECT_FALSE(m.shutdown_status());
  EXPECT_TRUE(m.store(tohost, 8, (9 << 1) | 1));
  EXPECT_EQ(m.shutdown_status(), 9);
}


// A guest takes the UART's THR-empty interrupt through the PLIC in M-mode,
// claims and completes it, and reports through the test finisher.
const char* kIrqGuest = R"(
  .text
  .globl _start
_start:
  csrr t0, mhartid
  bnez t0, park
  la t0, trap
  csrw mtvec, t0
  li t0, 0x0c000000
  li t1, 1
  sw t1, 40(t0)          # priority[10] = 1
  li t0, 0x0c002000
  li t1, 1 << 10
  sw t1, 0(t0)           # context 0 enables source 10
  li t0, 0x0c200000
  sw zero, 0(t0)         # threshold 0
  li t0, 0x800
  csrs mie, t0           # MEIE
  csrsi mstatus, 8       # MIE
  li t0, 0x10000000
  li t1, 2
  sb t1, 1(t0)           # UART IER = THR empty
park:
  wfi
  j park
trap:
  csrr t0, mcause
  li t1, 0x800000000000000b
  bne t0, t1, fail
  li t0, 0x0c200004
  lw t1, 0(t0)           # claim
  li t2, 10
  bne t1, t2, fail
  li t3, 0x10000000
  lbu t4, 2(t3)          # IIR: THR empty (acknowledges it)
  li t5, 2
  bne t4, t5, fail
  sw t1, 0(t0)           # complete
  lw t1, 0(t0)           # nothing left to claim
  bnez t1, fail
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
1: j 1b
fail:
  li t0, 0x100000
  li t1, (1 << 16) | 0x3333
  sw t1, 0(t0)
  j 1b
)";

struct HartForwarder : HartLines {
  Machine* m = nullptr;
  void set_line(unsigned hart, rv64::Irq irq, bool level) override {
    if (m && hart < m->num_harts()) m->hart(hart).set_irq_line(irq, level);
  }
  void timer_changed(unsigned) override {}
};

TEST_F(MachineFixture, GuestTakesAUartInterruptThroughThePlic) {
  std::string elf = build_guest(dir, kIrqGuest);
  if (elf.empty()) GTEST_SKIP() << "riscv64-unknown-elf-gcc not available";
  cfg.kernel = elf;
  HartForwarder fwd;
  Machine m(cfg, fwd, clock);
  fwd.m = &m;
  for (int i = 0; i < 1000 && !m.shutdown_status(); ++i)
    for (unsigned h = 0; h < m.num_harts(); ++h) m.hart(h).run(1000);
  EXPECT_EQ(m.shutdown_status(), 0);
}

// The built-in SBI (-bios default), driven by an S-mode guest on 2 harts:
// base, HSM start/status/stop, IPI, TIME through Sstc, unknown calls, SRST.
const char* kSbiGuest = R"(
  .equ BASE, 0x10
  .equ HSM, 0x48534d
  .equ IPI, 0x735049
  .equ TIME, 0x54494d45
  .equ SRST, 0x53525354
  .macro sbi eid, fid
  li a7, \eid
  li a6, \fid
  ecall
  .endm
  .macro expect reg, value
  li t6, \value
  bne \reg, t6, fail
  .endm
  .text
  .globl _start
_start:
  csrr t0, sstatus           # S-mode: sstatus is readable, mstatus is not
  expect a0, 0               # a0 = boot hart id
  sbi BASE, 0                # spec version 2.0
  expect a0, 0
  expect a1, 0x2000000
  li a0, TIME
  sbi BASE, 3                # probe TIME: available
  expect a1, 1
  li a0, 0x12345
  sbi BASE, 3                # probe an unknown extension: 0
  expect a1, 0
  sbi 0x12345, 0             # an unknown call: SBI_ERR_NOT_SUPPORTED
  expect a0, -2
  li a0, 1
  sbi HSM, 2                 # hart 1 is stopped
  expect a0, 0
  expect a1, 1
  li a0, 1
  la a1, secondary
  li a2, 0x1234
  sbi HSM, 0                 # hart_start(1, secondary, 0x1234)
  expect a0, 0
  li a0, 1
  la a1, secondary
  sbi HSM, 0                 # again: already available
  expect a0, -6
  la t0, flag
1: ld t1, 0(t0)              # hart 1 runs
  beqz t1, 1b
  li a0, 2
  li a1, 0
  sbi IPI, 0                 # send_ipi(mask 1 << 1, base 0)
  expect a0, 0
  li a0, 1
  li a1, 5
  sbi IPI, 0                 # hart 5 does not exist
  expect a0, -3
2: ld t1, 0(t0)              # hart 1 took the IPI
  li t2, 2
  bne t1, t2, 2b
3: li a0, 1
  sbi HSM, 2                 # ... and stopped itself
  li t2, 1
  bne a1, t2, 3b
  li a0, 0
  sbi TIME, 0                # set_timer(0): the deadline has passed
  csrr t1, sip
  andi t1, t1, 0x20
  beqz t1, fail              # STIP
  li a0, -1
  sbi TIME, 0                # set_timer(never) clears it
  csrr t1, sip
  andi t1, t1, 0x20
  bnez t1, fail
  li a0, 0
  li a1, 0
  sbi SRST, 0                # shutdown: status 0
  j fail
secondary:
  expect a0, 1               # a0 = hart id, a1 = opaque
  expect a1, 0x1234
  csrr t1, satp
  bnez t1, fail
  li t1, 2
  csrs sie, t1               # SSIE
  la t0, flag
  li t1, 1
  sd t1, 0(t0)
4: csrr t1, sip
  andi t1, t1, 2
  beqz t1, 4b
  csrc sip, 2
  li t1, 2
  sd t1, 0(t0)
  sbi HSM, 1                 # hart_stop: does not return
fail:
  li a0, 0
  li a1, 1
  sbi SRST, 0                # shutdown, system failure: status 1
5: j 5b
  .data
flag: .dword 0
)";

TEST_F(MachineFixture, BuiltInSbiServesAnSModeGuest) {
  std::string elf = build_guest(dir, kSbiGuest);
  if (elf.empty()) GTEST_SKIP() << "riscv64-unknown-elf-gcc not available";
  cfg.kernel = elf;
  cfg.bios = "default";
  HartForwarder fwd;
  Machine m(cfg, fwd, clock);
  fwd.m = &m;
  EXPECT_EQ(m.hart(0).priv(), rv64::kSupervisor);
  EXPECT_EQ(m.hart(0).pc, 0x80000000u);
  EXPECT_EQ(m.hart(0).x[11], m.fdt_addr());
  EXPECT_EQ(m.hart(1).priv(), rv64::kMachine);  // parked in the ROM
  for (int i = 0; i < 1000 && !m.shutdown_status(); ++i)
    for (unsigned h = 0; h < m.num_harts(); ++h) m.hart(h).run(1000);
  EXPECT_EQ(m.shutdown_status(), 0);
}

TEST_F(MachineFixture, BuiltInSbiNeedsAKernel) {
  cfg.bios = "default";
  EXPECT_THROW(Machine(cfg, lines, clock), ConfigError);
  cfg.kernel = kernel();
  Machine m(cfg, lines, clock);
  EXPECT_EQ(m.hart(0).pc, 0x80200000u);  // a raw kernel goes where fw_jump would jump
}

}  // namespace

// A segment that starts below RAM (the ELF headers a page below the code, as
// many linker scripts produce) loads its in-RAM part, as QEMU does.
TEST(Loader, SegmentStraddlingTheStartOfRamLoadsItsRamPart) {
  TempDir dir;
  std::vector<uint8_t> payload(0x1000 + 8);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7);
  std::string p = dir.file("s.elf", make_elf(kRamBase - 0x1000, kRamBase, payload, payload.size() + 8));
  LoadedImage img = load_image(p, "kernel", kRamBase, kRamBase, kRamSize);
  ASSERT_EQ(img.blobs.size(), 1u);
  EXPECT_EQ(img.blobs[0].addr, kRamBase);
  ASSERT_EQ(img.blobs[0].data.size(), 8u);
  EXPECT_EQ(img.blobs[0].data[0], payload[0x1000]);
  EXPECT_EQ(img.blobs[0].zeros, 8u);
}

// The xv6-riscv driver's initialisation: it writes only the low feature word
// (never acknowledging VIRTIO_F_VERSION_1), re-reads Status for FEATURES_OK,
// sets up an 8-entry queue and reads a block with a three-descriptor chain.
// QEMU accepts this; the device must too.
TEST_F(VirtioFixture, Xv6StyleDriverWithoutVersion1Works) {
  dev.attach(image, false, "s");
  uint32_t status = 0;
  set(VirtioBlk::kStatus, status);
  status |= VirtioBlk::kAcknowledge;
  set(VirtioBlk::kStatus, status);
  status |= VirtioBlk::kDriver;
  set(VirtioBlk::kStatus, status);
  uint32_t features = reg(VirtioBlk::kDeviceFeatures);
  features &= ~(1u << VirtioBlk::kFRo);
  features &= ~(1u << VirtioBlk::kFIndirectDesc);
  set(VirtioBlk::kDriverFeatures, features);
  status |= VirtioBlk::kFeaturesOk;
  set(VirtioBlk::kStatus, status);
  ASSERT_TRUE(reg(VirtioBlk::kStatus) & VirtioBlk::kFeaturesOk);
  set(VirtioBlk::kQueueSel, 0);
  ASSERT_EQ(reg(VirtioBlk::kQueueReady), 0u);
  ASSERT_GE(reg(VirtioBlk::kQueueNumMax), kQueueNum);
  set(VirtioBlk::kQueueNum, kQueueNum);
  set(VirtioBlk::kQueueDescLow, static_cast<uint32_t>(kDesc));
  set(VirtioBlk::kQueueDescHigh, 0);
  set(VirtioBlk::kQueueDriverLow, static_cast<uint32_t>(kAvail));
  set(VirtioBlk::kQueueDriverHigh, 0);
  set(VirtioBlk::kQueueDeviceLow, static_cast<uint32_t>(kUsed));
  set(VirtioBlk::kQueueDeviceHigh, 0);
  set(VirtioBlk::kQueueReady, 1);
  status |= VirtioBlk::kDriverOk;
  set(VirtioBlk::kStatus, status);
  EXPECT_EQ(reg(VirtioBlk::kStatus) & VirtioBlk::kNeedsReset, 0u);

  request(VirtioBlk::kTIn, 2, 1024, true);  // one 1 KiB xv6 block
  submit(0);
  EXPECT_EQ(used_idx(), 1);
  EXPECT_EQ(ram.get<uint8_t>(kStatus), VirtioBlk::kSOk);
  EXPECT_EQ(0, std::memcmp(&ram.mem[kData - FakeRam::kBase], &disk[2 * 512], 1024));
  EXPECT_TRUE(irq.level[kVirtioIrq]);
  set(VirtioBlk::kInterruptAck, reg(VirtioBlk::kInterruptStatus) & 3);
  EXPECT_FALSE(irq.level[kVirtioIrq]);
}

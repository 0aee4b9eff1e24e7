// Machine state: hart and device save/load round trips, RAM dirty tracking
// on every path that writes RAM, checkpoints of a real guest run restored
// and re-executed to the same state digests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "machine/checkpoint.h"
#include "machine/clint.h"
#include "machine/htif.h"
#include "machine/machine.h"
#include "machine/memmap.h"
#include "machine/plic.h"
#include "machine/state.h"
#include "machine/testdev.h"
#include "machine/uart.h"
#include "machine/virtio_blk.h"
#include "rv64/hart.h"

using namespace machine;

namespace {

// ---- encoders -----------------------------------------------------------------
uint32_t R(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
  return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
uint32_t I(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op) {
  return (static_cast<uint32_t>(imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
uint32_t S(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t op) {
  uint32_t u = static_cast<uint32_t>(imm);
  return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | op;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 0, rd, 0x13); }
uint32_t add(uint32_t rd, uint32_t rs1, uint32_t rs2) { return R(0, rs2, rs1, 0, rd, 0x33); }
uint32_t mul(uint32_t rd, uint32_t rs1, uint32_t rs2) { return R(1, rs2, rs1, 0, rd, 0x33); }
uint32_t ld(uint32_t rd, uint32_t rs1, int32_t imm) { return I(imm, rs1, 3, rd, 0x03); }
uint32_t sd(uint32_t rs2, uint32_t rs1, int32_t imm) { return S(imm, rs2, rs1, 3, 0x23); }
uint32_t csrrs(uint32_t rd, uint32_t csr, uint32_t rs1) { return I(static_cast<int32_t>(csr), rs1, 2, rd, 0x73); }
uint32_t amoadd_d(uint32_t rd, uint32_t rs2, uint32_t rs1) { return R(0x00, rs2, rs1, 3, rd, 0x2f); }
uint32_t lr_d(uint32_t rd, uint32_t rs1) { return R(0x08, 0, rs1, 3, rd, 0x2f); }
uint32_t sc_d(uint32_t rd, uint32_t rs2, uint32_t rs1) { return R(0x0c, rs2, rs1, 3, rd, 0x2f); }
uint32_t fadd_d(uint32_t rd, uint32_t rs1, uint32_t rs2) { return R(0x01, rs2, rs1, 7, rd, 0x53); }
uint32_t jal0(int32_t off) {  // jal x0, off
  uint32_t u = static_cast<uint32_t>(off);
  return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 | 0x6f;
}

// ---- a controllable world around a Machine ----------------------------------------
struct TestClock : Clock {
  uint64_t t = 0;
  uint64_t now() override { return t; }
};
struct Lines : HartLines {
  Machine* m = nullptr;
  void set_line(unsigned hart, rv64::Irq irq, bool level) override {
    if (m && hart < m->num_harts()) m->hart(hart).set_irq_line(irq, level);
  }
  void timer_changed(unsigned) override {}
};
struct Capture : CharBackend {
  std::string out;
  void write(const uint8_t* d, size_t n) override { out.append(reinterpret_cast<const char*>(d), n); }
};

struct World {
  TestClock clock;
  Lines lines;
  Capture serial;
  std::unique_ptr<Machine> m;
  explicit World(const MachineConfig& cfg) {
    m = std::make_unique<Machine>(cfg, lines, clock);
    lines.m = m.get();
    m->set_serial_backend(&serial);
  }
  // One round of a deterministic single-thread scheduler: time advances by
  // a fixed amount per round; every hart that is not asleep runs a quantum.
  void round(uint64_t quantum = 1000) {
    clock.t += 100;
    for (unsigned i = 0; i < m->num_harts(); ++i) {
      rv64::Hart& h = m->hart(i);
      h.set_irq_line(rv64::kMTI, clock.t >= m->mtimecmp(i));
      h.update_sstc(clock.t);
      if (h.in_wfi()) {
        if (!h.wfi_wakeup_pending()) continue;
        h.set_in_wfi(false);
      }
      if (h.run(quantum) == rv64::Exit::kWfi) h.set_in_wfi(true);
      if (m->shutdown_status()) return;
    }
  }
  bool done() const { return m->shutdown_status().has_value(); }
};

std::string guest(const char* name) { return std::string(COREMU_GUEST_DIR) + "/" + name + ".elf"; }

MachineConfig empty_machine(unsigned smp = 1, uint64_t ram = 16ull << 20) {
  MachineConfig c;
  c.smp = smp;
  c.ram_size = ram;
  c.bios = "none";
  c.serial = "none";
  return c;
}

constexpr uint64_t kRam = memmap::kDramBase;

template <class T>
T peek(Machine& m, uint64_t pa) {
  T v{};
  EXPECT_TRUE(m.read_phys(pa, &v, sizeof v));
  return v;
}
template <class T>
void poke(Machine& m, uint64_t pa, T v) {
  ASSERT_TRUE(m.write_phys(pa, &v, sizeof v));
}
void put_code(Machine& m, uint64_t pa, const std::vector<uint32_t>& code) {
  ASSERT_TRUE(m.write_phys(pa, code.data(), code.size() * 4));
}

}  // namespace

// ---- serialisation ------------------------------------------------------------------

TEST(StateIo, RoundTripAndReadingPastTheEndThrows) {
  StateWriter w;
  w.u8(0xab);
  w.u32(0x12345678);
  w.u64(0x1122334455667788ull);
  w.bytes("xyz", 3);
  ASSERT_EQ(w.data().size(), 1u + 4 + 8 + 3);
  EXPECT_EQ(w.data()[1], 0x78);  // little-endian
  StateReader r(w.data());
  EXPECT_EQ(r.u8(), 0xab);
  EXPECT_EQ(r.u32(), 0x12345678u);
  EXPECT_EQ(r.u64(), 0x1122334455667788ull);
  char s[3];
  r.bytes(s, 3);
  EXPECT_EQ(std::string(s, 3), "xyz");
  EXPECT_TRUE(r.at_end());
  EXPECT_THROW(r.u8(), std::runtime_error);
  StateReader r2(w.data());
  r2.u64();
  r2.u64();
  EXPECT_THROW(r2.u32(), std::runtime_error);
}

// ---- harts ----------------------------------------------------------------------------

namespace {
// Random architectural state that keeps the hart runnable in M-mode at `pc`.
void randomise(rv64::Hart& h, std::mt19937_64& rng, uint64_t pc) {
  for (unsigned i = 1; i < 32; ++i) h.x[i] = rng();
  for (unsigned i = 0; i < 32; ++i) h.f[i] = rng();
  h.pc = pc;
  // Writable CSRs with random values (WARL fields keep what they may).
  for (unsigned csr : {0x340u, 0x341u, 0x342u, 0x343u, 0x140u, 0x141u, 0x142u, 0x143u, 0x105u, 0x305u, 0x302u,
                       0x303u, 0x304u, 0x306u, 0x106u, 0x30au, 0x10au, 0x3a0u, 0x3b0u, 0x3b5u, 0x7a0u, 0xb00u,
                       0xb02u, 0x320u, 0x14du})
    h.csr_write(csr, rng());
  h.csr_write(0x300, (rng() & ~rv64::mstatus::MPRV & ~rv64::mstatus::MIE) | rv64::mstatus::FS);
  h.csr_write(0x180, 0);  // satp: bare (random values would page)
  h.frm = 0;
  h.fflags = rng() & 0x1f;
  h.resv_addr = kRam + 0x3000;
  h.resv_value = rng();
  h.resv_size = 8;
  h.set_irq_line(rv64::kSEI, true);
}
}  // namespace

TEST(HartState, SaveResetLoadRestoresTheHashAndTheFuture) {
  World w(empty_machine());
  Machine& m = *w.m;
  rv64::Hart& h = m.hart(0);
  const uint64_t code = kRam + 0x1000, data = kRam + 0x3000;
  // A loop that mixes ALU, FP, loads, stores, AMOs, LR/SC and counter reads.
  put_code(m, code,
           {add(7, 7, 6), mul(8, 7, 7), sd(8, 5, 0), ld(9, 5, 8), add(7, 7, 9), amoadd_d(10, 7, 5), fadd_d(1, 2, 3),
            lr_d(11, 5), sc_d(12, 7, 5), csrrs(13, 0xb02, 0), csrrs(14, 0xc01, 0), addi(6, 6, 1), jal0(-48)});
  std::mt19937_64 rng(42);
  randomise(h, rng, code);
  h.x[5] = data;
  std::vector<uint8_t> saved;
  h.save_state(saved);
  uint64_t hash = h.state_hash();
  std::vector<uint8_t> ram_before(0x1000);
  m.read_phys(data, ram_before.data(), ram_before.size());

  h.run(5000);
  uint64_t after_hash = h.state_hash();
  std::vector<uint8_t> ram_after(0x1000);
  m.read_phys(data, ram_after.data(), ram_after.size());
  EXPECT_NE(after_hash, hash);

  h.reset(0x1000);
  EXPECT_NE(h.state_hash(), hash);
  const uint8_t* p = saved.data();
  h.load_state(p, saved.data() + saved.size());
  EXPECT_EQ(p, saved.data() + saved.size());
  EXPECT_EQ(h.state_hash(), hash);
  std::vector<uint8_t> again;
  h.save_state(again);
  EXPECT_EQ(again, saved);

  m.write_phys(data, ram_before.data(), ram_before.size());
  h.run(5000);
  EXPECT_EQ(h.state_hash(), after_hash);
  std::vector<uint8_t> ram_again(0x1000);
  m.read_phys(data, ram_again.data(), ram_again.size());
  EXPECT_EQ(ram_again, ram_after);
}

TEST(HartState, TruncatedOrForeignStateIsRefusedAndChangesNothing) {
  World w(empty_machine(2));
  rv64::Hart& h0 = w.m->hart(0);
  rv64::Hart& h1 = w.m->hart(1);
  std::mt19937_64 rng(7);
  randomise(h0, rng, kRam);
  std::vector<uint8_t> s;
  h0.save_state(s);
  uint64_t before = h1.state_hash();
  const uint8_t* p = s.data();
  EXPECT_THROW(h1.load_state(p, s.data() + s.size()), std::runtime_error);  // hart 0's state
  EXPECT_EQ(p, s.data());
  uint64_t h0_hash = h0.state_hash();
  h0.reset(0x1000);
  uint64_t reset_hash = h0.state_hash();
  p = s.data();
  EXPECT_THROW(h0.load_state(p, s.data() + s.size() - 1), std::runtime_error);
  EXPECT_EQ(h0.state_hash(), reset_hash);
  EXPECT_EQ(h1.state_hash(), before);
  p = s.data();
  h0.load_state(p, s.data() + s.size());
  EXPECT_EQ(h0.state_hash(), h0_hash);
}

// ---- devices -------------------------------------------------------------------------

namespace {
struct NullLines : HartLines {
  void set_line(unsigned, rv64::Irq, bool) override {}
  void timer_changed(unsigned) override {}
};
struct NullIrq : IrqSource {
  void set_irq(unsigned, bool) override {}
};
template <class D>
std::vector<uint8_t> saved(const D& d) {
  StateWriter w;
  d.save(w);
  return w.data();
}
template <class D>
void load_all(D& d, const std::vector<uint8_t>& s) {
  StateReader r(s);
  d.load(r);
  EXPECT_TRUE(r.at_end());
}
}  // namespace

TEST(DeviceState, UartRoundTrip) {
  NullIrq irq;
  Uart a(irq, 10), b(irq, 10);
  a.write(2, 1, 0xc1);  // FIFO on, trigger 14
  a.write(1, 1, 0x07);
  a.write(7, 1, 0x5a);
  a.write(3, 1, 0x83);  // DLAB
  a.write(0, 1, 0x12);
  a.write(3, 1, 0x03);
  const uint8_t in[] = {'a', 'b', 'c'};
  a.receive(in, 3);
  auto s = saved(a);
  load_all(b, s);
  EXPECT_EQ(saved(b), s);
  uint64_t v;
  for (char c : {'a', 'b', 'c'}) {
    b.read(0, 1, v);
    EXPECT_EQ(v, static_cast<uint64_t>(c));
  }
  std::vector<uint8_t> cut(s.begin(), s.begin() + 5);
  StateReader bad(cut);
  EXPECT_THROW(b.load(bad), std::runtime_error);
}

TEST(DeviceState, PlicRoundTrip) {
  NullLines lines;
  Plic a(lines, 2), b(lines, 2), other(lines, 3);
  a.write(4 * 5, 4, 3);
  a.write(Plic::kEnableBase + Plic::kEnableStride * 1, 4, 1u << 5);
  a.write(Plic::kContextBase + Plic::kContextStride * 1, 4, 1);
  a.set_irq(5, true);
  auto s = saved(a);
  load_all(b, s);
  EXPECT_EQ(saved(b), s);
  uint64_t claim;
  b.read(Plic::kContextBase + Plic::kContextStride * 1 + 4, 4, claim);
  EXPECT_EQ(claim, 5u);
  StateReader r(s);
  EXPECT_THROW(other.load(r), std::runtime_error);
}

TEST(DeviceState, ClintRoundTrip) {
  NullLines lines;
  struct C : Clock {
    uint64_t now() override { return 0; }
  } clock;
  Clint a(lines, clock, 2), b(lines, clock, 2);
  a.write(Clint::kMtimecmpBase + 8, 8, 12345);
  a.write(Clint::kMsipBase, 4, 1);
  auto s = saved(a);
  load_all(b, s);
  EXPECT_EQ(saved(b), s);
  EXPECT_EQ(b.mtimecmp(1), 12345u);
  EXPECT_EQ(b.mtimecmp(0), ~0ull);
  uint64_t v;
  b.read(Clint::kMsipBase, 4, v);
  EXPECT_EQ(v, 1u);
}

TEST(DeviceState, TestDeviceAndHtifRoundTrip) {
  TestDevice t([](int) {}, [] {});
  auto s = saved(t);
  load_all(t, s);
  Htif::Env env{[](uint64_t, void*, uint64_t) { return true; }, [](uint64_t, const void*, uint64_t) { return true; },
                [](const uint8_t*, size_t) {}, [](int) {}};
  Htif a(kRam + 0x1000, kRam + 0x1008, env), b(kRam + 0x1000, kRam + 0x1008, env), c(kRam, kRam + 8, env);
  auto hs = saved(a);
  load_all(b, hs);
  EXPECT_EQ(saved(b), hs);
  StateReader r(hs);
  EXPECT_THROW(c.load(r), std::runtime_error);
}

namespace {
struct TempFile {
  std::string path;
  explicit TempFile(const std::vector<uint8_t>& contents) {
    char tmpl[] = "/tmp/coremu-state-XXXXXX";
    int fd = mkstemp(tmpl);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    ::close(fd);
    path = tmpl;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::vector<uint8_t> contents() const {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
  }
};
std::vector<uint8_t> disk_pattern(unsigned sectors) {
  std::vector<uint8_t> d(sectors * 512);
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 7 + i / 512);
  return d;
}

// The driver side of virtio-blk on a Machine: registers through Machine::store,
// rings and buffers in guest RAM.
struct VirtioDriver {
  Machine& m;
  uint64_t base;
  static constexpr uint64_t kDesc = kRam + 0x10000, kAvail = kRam + 0x11000, kUsed = kRam + 0x12000,
                            kHdr = kRam + 0x13000, kData = kRam + 0x14000, kStatus = kRam + 0x15000;
  static constexpr unsigned kNum = 8;
  uint16_t avail_idx = 0;
  void set(uint64_t off, uint32_t v) { ASSERT_TRUE(m.store(base + off, 4, v)); }
  uint32_t reg(uint64_t off) {
    uint64_t v = 0;
    EXPECT_TRUE(m.load(base + off, 4, v));
    return static_cast<uint32_t>(v);
  }
  void init() {
    ASSERT_EQ(reg(VirtioBlk::kDeviceId), 2u);
    set(VirtioBlk::kStatus, VirtioBlk::kAcknowledge | VirtioBlk::kDriver);
    set(VirtioBlk::kDriverFeaturesSel, 1);
    set(VirtioBlk::kDriverFeatures, 1);
    set(VirtioBlk::kDriverFeaturesSel, 0);
    set(VirtioBlk::kDriverFeatures, 0);
    set(VirtioBlk::kStatus, VirtioBlk::kAcknowledge | VirtioBlk::kDriver | VirtioBlk::kFeaturesOk);
    set(VirtioBlk::kQueueSel, 0);
    set(VirtioBlk::kQueueNum, kNum);
    set(VirtioBlk::kQueueDescLow, static_cast<uint32_t>(kDesc));
    set(VirtioBlk::kQueueDescHigh, 0);
    set(VirtioBlk::kQueueDriverLow, static_cast<uint32_t>(kAvail));
    set(VirtioBlk::kQueueDriverHigh, 0);
    set(VirtioBlk::kQueueDeviceLow, static_cast<uint32_t>(kUsed));
    set(VirtioBlk::kQueueDeviceHigh, 0);
    set(VirtioBlk::kQueueReady, 1);
    set(VirtioBlk::kStatus,
        VirtioBlk::kAcknowledge | VirtioBlk::kDriver | VirtioBlk::kFeaturesOk | VirtioBlk::kDriverOk);
  }
  void desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    poke<uint64_t>(m, kDesc + 16 * i, addr);
    poke<uint32_t>(m, kDesc + 16 * i + 8, len);
    poke<uint16_t>(m, kDesc + 16 * i + 12, flags);
    poke<uint16_t>(m, kDesc + 16 * i + 14, next);
  }
  // Puts a request (IN: device writes kData; OUT: device reads it) in the
  // avail ring without notifying.
  void queue(uint32_t type, uint64_t sector) {
    poke<uint32_t>(m, kHdr, type);
    poke<uint32_t>(m, kHdr + 4, 0);
    poke<uint64_t>(m, kHdr + 8, sector);
    poke<uint8_t>(m, kStatus, 0xff);
    desc(0, kHdr, 16, 1, 1);
    desc(1, kData, 512, 1 | (type == VirtioBlk::kTIn ? 2 : 0), 2);
    desc(2, kStatus, 1, 2, 0);
    poke<uint16_t>(m, kAvail + 4 + 2 * (avail_idx % kNum), 0);
    ++avail_idx;
    poke<uint16_t>(m, kAvail + 2, avail_idx);
  }
  void notify() { set(VirtioBlk::kQueueNotify, 0); }
};
}  // namespace

TEST(DeviceState, VirtioBlkRoundTripWithSnapshotOverlay) {
  TempFile img(disk_pattern(8)), other(disk_pattern(8));
  VirtioBlk::GuestMemory gm{[](uint64_t, void*, uint64_t) { return true; },
                            [](uint64_t, const void*, uint64_t) { return true; }};
  NullIrq irq;
  VirtioBlk a(irq, 1, gm), b(irq, 1, gm), plain(irq, 1, gm);
  a.attach(img.path, false, "x", true);
  b.attach(img.path, false, "x", true);       // snapshot drives share the image (a shared lock)
  plain.attach(other.path, false, "x", false);  // a writable drive has its image to itself
  EXPECT_TRUE(a.rollback_safe());
  EXPECT_FALSE(plain.rollback_safe());
  a.write(VirtioBlk::kStatus, 4, 3);
  a.write(VirtioBlk::kQueueNum, 4, 16);
  a.write(VirtioBlk::kQueueDescLow, 4, 0x1000);
  a.write(VirtioBlk::kQueueReady, 4, 1);
  auto s = saved(a);
  load_all(b, s);
  EXPECT_EQ(saved(b), s);
  uint64_t v;
  b.read(VirtioBlk::kQueueNum, 4, v);
  EXPECT_EQ(v, 16u);
  b.read(VirtioBlk::kQueueDescLow, 4, v);
  EXPECT_EQ(v, 0x1000u);
  b.read(VirtioBlk::kStatus, 4, v);
  EXPECT_EQ(v, 3u);
}

// ---- the machine ------------------------------------------------------------------------

TEST(MachineState, SaveLoadRoundTripAndRefusals) {
  World w(empty_machine(2));
  Machine& m = *w.m;
  std::mt19937_64 rng(3);
  randomise(m.hart(1), rng, kRam);
  m.store(memmap::kClintBase + Clint::kMtimecmpBase, 8, 777);
  StateWriter s;
  m.save_state(s);
  uint64_t d = m.state_digest();
  m.hart(1).reset(0x1000);
  m.store(memmap::kClintBase + Clint::kMtimecmpBase, 8, 1);
  EXPECT_NE(m.state_digest(), d);
  StateReader r(s.data());
  m.load_state(r);
  EXPECT_EQ(m.state_digest(), d);
  EXPECT_EQ(m.mtimecmp(0), 777u);

  // A truncated state is refused and leaves the machine as it was.
  m.hart(0).x[5] = 99;
  uint64_t d2 = m.state_digest();
  std::vector<uint8_t> cut(s.data().begin(), s.data().end() - 3);
  StateReader rc(cut);
  EXPECT_THROW(m.load_state(rc), std::runtime_error);
  EXPECT_EQ(m.state_digest(), d2);
  // So is a state of another machine.
  World w1(empty_machine(1));
  StateReader r1(s.data());
  EXPECT_THROW(w1.m->load_state(r1), std::runtime_error);
}

TEST(MachineState, DigestCoversRam) {
  World w(empty_machine());
  uint64_t d = w.m->state_digest();
  poke<uint8_t>(*w.m, kRam + (8 << 20) + 5, 1);
  EXPECT_NE(w.m->state_digest(), d);
  poke<uint8_t>(*w.m, kRam + (8 << 20) + 5, 0);
  EXPECT_EQ(w.m->state_digest(), d);
}

TEST(MachineState, CheckpointableOnlyWithoutWriteThroughDrives) {
  TempFile img(disk_pattern(8));
  MachineConfig c = empty_machine();
  c.drives.push_back({"d0", img.path, "raw", false, false});
  c.blk_devices.push_back({"d0", -1});
  {
    World w(c);  // its writable drive locks the image: the next machines take it once it is gone
    std::string why;
    EXPECT_FALSE(w.m->checkpointable(&why));
    EXPECT_NE(why.find("d0"), std::string::npos) << why;
  }
  std::string why;
  c.drives[0].snapshot = true;
  World ws(c);
  EXPECT_TRUE(ws.m->checkpointable(&why));
  c.drives[0].snapshot = false;
  c.drives[0].readonly = true;
  World wr(c);  // shares the image with ws: both only read it
  EXPECT_TRUE(wr.m->checkpointable(nullptr));
}

// ---- dirty tracking: every path that writes RAM ---------------------------------------

namespace {
struct DirtyFixture : ::testing::Test {
  World w{empty_machine(1)};
  Machine& m = *w.m;
  rv64::Hart& h = m.hart(0);
  rv64::Ram& ram = m.ram();
  static constexpr uint64_t kCode = kRam + 0x1000, kData = kRam + 0x5000;

  // Runs the instructions at kCode one step at a time from `pc`.
  void step_from(uint64_t pc, unsigned n) {
    h.pc = pc;
    for (unsigned i = 0; i < n; ++i) h.step();
  }
};
}  // namespace

TEST_F(DirtyFixture, StoreThroughAWriteEntryCachedBeforeTheCheckpoint) {
  put_code(m, kCode, {sd(6, 5, 0)});
  Checkpoints cps(m);
  h.x[5] = kData;
  h.x[6] = 111;
  step_from(kCode, 1);  // fills the write TLB entry
  size_t c0 = cps.take();
  ASSERT_EQ(ram.dirty_count(), 0u);
  h.x[6] = 222;
  step_from(kCode, 1);  // the same entry: re-armed, so the page is marked
  EXPECT_TRUE(ram.is_dirty(ram.page_index(kData)));
  EXPECT_EQ(peek<uint64_t>(m, kData), 222u);
  cps.restore(c0);
  EXPECT_EQ(peek<uint64_t>(m, kData), 111u);
  EXPECT_EQ(h.x[6], 111u);
}

TEST_F(DirtyFixture, StoreThatFillsAFreshEntryAndRunLoop) {
  put_code(m, kCode, {sd(6, 5, 0), sd(6, 8, 0), jal0(0)});
  Checkpoints cps(m);
  h.x[5] = kData;
  h.x[8] = kData + 0x1000;
  h.x[6] = 5;
  h.pc = kCode;
  size_t c0 = cps.take();
  h.run(10);  // fast path via run(): fresh fills
  EXPECT_EQ(peek<uint64_t>(m, kData + 0x1000), 5u);
  EXPECT_EQ(ram.dirty_count(), 2u);
  cps.restore(c0);
  EXPECT_EQ(peek<uint64_t>(m, kData), 0u);
  EXPECT_EQ(peek<uint64_t>(m, kData + 0x1000), 0u);
  EXPECT_EQ(h.pc, kCode);
}

TEST_F(DirtyFixture, AmoAndScMarkTheirPages) {
  put_code(m, kCode, {sd(6, 5, 0), amoadd_d(7, 6, 5), lr_d(7, 8), sc_d(9, 6, 8)});
  Checkpoints cps(m);
  h.x[5] = kData;
  h.x[8] = kData + 0x2000;
  h.x[6] = 10;
  step_from(kCode, 1);        // sd: the write entry for kData is cached
  poke<uint64_t>(m, kData + 0x2000, 1);
  size_t c0 = cps.take();
  step_from(kCode + 4, 1);    // amoadd through the cached (re-armed) entry
  EXPECT_EQ(peek<uint64_t>(m, kData), 20u);
  step_from(kCode + 8, 2);    // lr, sc on a page with no cached write entry
  EXPECT_EQ(h.x[9], 0u);      // sc succeeded
  EXPECT_EQ(peek<uint64_t>(m, kData + 0x2000), 10u);
  cps.restore(c0);
  EXPECT_EQ(peek<uint64_t>(m, kData), 10u);
  EXPECT_EQ(peek<uint64_t>(m, kData + 0x2000), 1u);
}

TEST_F(DirtyFixture, PageWalkerAccessedAndDirtyUpdates) {
  // Sv39: one gigapage mapping VA 0x80000000 to PA 0x80000000, A and D clear.
  const uint64_t root = kRam + 0x8000;
  const uint64_t leaf = ((kRam >> 12) << 10) | 0xf;  // V R W X
  poke<uint64_t>(m, root + 8 * 2, leaf);
  put_code(m, kCode, {ld(7, 5, 0), sd(7, 5, 8)});
  ASSERT_TRUE(h.csr_write(0x3b0, ~0ull));  // PMP entry 0: everything, RWX (S mode needs an entry)
  ASSERT_TRUE(h.csr_write(0x3a0, 0x1f));
  Checkpoints cps(m);
  size_t c0 = cps.take();
  ASSERT_TRUE(h.csr_write(0x180, (8ull << 60) | (root >> 12)));
  h.set_priv(rv64::kSupervisor);
  h.x[5] = kData;
  step_from(kCode, 2);
  EXPECT_EQ(peek<uint64_t>(m, root + 16) & 0xc0, 0xc0u);  // A and D set by the walker
  cps.restore(c0);
  EXPECT_EQ(peek<uint64_t>(m, root + 16), leaf);
  EXPECT_EQ(h.priv(), rv64::kMachine);
}

TEST_F(DirtyFixture, WritePhysAndBusStores) {
  Checkpoints cps(m);
  poke<uint64_t>(m, kData, 1);
  size_t c0 = cps.take();
  poke<uint64_t>(m, kData, 2);                      // write_phys (debuggers, loaders, DMA)
  ASSERT_TRUE(m.store(kData + 0x3000, 8, 3));       // Bus::store to RAM
  cps.restore(c0);
  EXPECT_EQ(peek<uint64_t>(m, kData), 1u);
  EXPECT_EQ(peek<uint64_t>(m, kData + 0x3000), 0u);
}

TEST(DirtyTracking, HtifWritesToAndFromHost) {
  if (access(guest("htif_pass").c_str(), R_OK) != 0) GTEST_SKIP() << "guest programs not built";
  MachineConfig c = empty_machine();
  c.kernel = guest("htif_pass");
  World w(c);
  Machine& m = *w.m;
  auto to = m.symbols().by_name.at("tohost"), from = m.symbols().by_name.at("fromhost");
  Checkpoints cps(m);
  size_t c0 = cps.take();
  uint64_t d0 = m.state_digest();
  uint64_t from0 = peek<uint64_t>(m, from);
  // putchar('x'): the device clears tohost and answers in fromhost.
  ASSERT_TRUE(m.store(to, 8, (1ull << 56) | (1ull << 48) | 'x'));
  EXPECT_NE(peek<uint64_t>(m, from), from0);
  EXPECT_EQ(w.serial.out, "x");
  cps.restore(c0);
  EXPECT_EQ(peek<uint64_t>(m, from), from0);
  EXPECT_EQ(m.state_digest(), d0);
}

TEST(DirtyTracking, VirtioDmaAndSnapshotOverlay) {
  TempFile img(disk_pattern(8));
  MachineConfig c = empty_machine();
  c.drives.push_back({"d0", img.path, "raw", false, true});
  c.blk_devices.push_back({"d0", -1});
  World w(c);
  Machine& m = *w.m;
  ASSERT_TRUE(m.checkpointable(nullptr));
  VirtioDriver drv{m, memmap::kVirtioBase + 7 * memmap::kVirtioStride};
  drv.init();
  std::vector<uint8_t> fill(512, 0xaa);
  m.write_phys(VirtioDriver::kData, fill.data(), fill.size());
  drv.queue(VirtioBlk::kTOut, 1);  // write 0xaa.. to sector 1: the overlay
  drv.notify();
  EXPECT_EQ(peek<uint8_t>(m, VirtioDriver::kStatus), 0u);
  EXPECT_EQ(img.contents(), disk_pattern(8));  // the file is untouched

  Checkpoints cps(m);
  size_t c0 = cps.take();
  uint64_t d0 = m.state_digest();
  // Overwrite sector 1 again, then read sector 2 into the buffer (DMA).
  std::vector<uint8_t> fill2(512, 0x55);
  m.write_phys(VirtioDriver::kData, fill2.data(), fill2.size());
  drv.queue(VirtioBlk::kTOut, 1);
  drv.notify();
  size_t c1 = cps.take();
  uint64_t d1 = m.state_digest();
  drv.queue(VirtioBlk::kTIn, 2);
  drv.notify();
  EXPECT_EQ(peek<uint8_t>(m, VirtioDriver::kData), disk_pattern(8)[1024]);
  uint64_t d2 = m.state_digest();

  // Back to c1: the DMA'd buffer and ring are undone; redoing gives the same state.
  cps.restore(c1);
  EXPECT_EQ(m.state_digest(), d1);
  EXPECT_EQ(peek<uint8_t>(m, VirtioDriver::kData), 0x55);
  drv.avail_idx = 2;
  drv.queue(VirtioBlk::kTIn, 2);
  drv.notify();
  EXPECT_EQ(m.state_digest(), d2);

  // Back to c0: the overlay holds 0xaa again for sector 1.
  cps.restore(c0);
  EXPECT_EQ(m.state_digest(), d0);
  drv.avail_idx = 1;
  std::vector<uint8_t> zero(512, 0);
  m.write_phys(VirtioDriver::kData, zero.data(), zero.size());
  drv.queue(VirtioBlk::kTIn, 1);
  drv.notify();
  EXPECT_EQ(peek<uint8_t>(m, VirtioDriver::kData), 0xaa);
  EXPECT_EQ(peek<uint8_t>(m, VirtioDriver::kData + 511), 0xaa);
}

TEST(DirtyTracking, ImageInstallationAtReset) {
  if (access(guest("demo").c_str(), R_OK) != 0) GTEST_SKIP() << "guest programs not built";
  MachineConfig c = empty_machine(2);
  c.kernel = guest("demo");
  World w(c);
  Machine& m = *w.m;
  Checkpoints cps(m);
  for (int i = 0; i < 30 && !w.done(); ++i) w.round();
  size_t c0 = cps.take();
  uint64_t d0 = m.state_digest();
  m.reset();  // reinstalls the images over what the guest wrote
  EXPECT_NE(m.state_digest(), d0);
  cps.restore(c0);
  EXPECT_EQ(m.state_digest(), d0);
}

// ---- checkpoints of a real guest run ----------------------------------------------------

TEST(Checkpoints, RestoreAndReexecuteGivesTheSameDigests) {
  if (access(guest("smp_amo").c_str(), R_OK) != 0) GTEST_SKIP() << "guest programs not built";
  MachineConfig c = empty_machine(4, 64ull << 20);
  c.kernel = guest("smp_amo");
  World w(c);
  Machine& m = *w.m;
  Checkpoints cps(m);

  // First run: checkpoints at rounds 0, 10, 20, 30; digests every 5 rounds.
  struct Point {
    int round;
    uint64_t clock, digest;
  };
  std::map<int, uint64_t> digest_at;
  std::map<size_t, Point> cp_at;
  int r = 0;
  for (; !w.done(); ++r) {
    if (r % 10 == 0 && r <= 30) {
      size_t id = cps.take();
      cp_at[id] = {r, w.clock.t, m.state_digest()};
    }
    if (r % 5 == 0) digest_at[r] = m.state_digest();
    w.round();
    ASSERT_LT(r, 100000);
  }
  const int end = r;
  const uint64_t final_digest = m.state_digest();
  const std::string output = w.serial.out;
  ASSERT_EQ(m.shutdown_status(), 0) << output;
  ASSERT_EQ(cps.count(), 4u);
  ASSERT_GT(end, 30) << "the guest ended too early for the test";

  // Restore checkpoint 1 (round 10), re-run: the same digests at the same rounds.
  cps.restore(1);
  EXPECT_EQ(cps.count(), 2u);
  w.clock.t = cp_at[1].clock;
  EXPECT_EQ(m.state_digest(), cp_at[1].digest);
  EXPECT_FALSE(w.done());
  for (r = cp_at[1].round; r < 30; ++r) {
    if (r % 5 == 0) {
      EXPECT_EQ(m.state_digest(), digest_at[r]) << "round " << r;
    }
    w.round();
  }
  // A new checkpoint on the re-run continues the numbering.
  EXPECT_EQ(cps.take(), 2u);

  // Back to checkpoint 0 after all that, and run to the end.
  cps.restore(0);
  w.clock.t = cp_at[0].clock;
  w.serial.out.clear();
  EXPECT_EQ(m.state_digest(), cp_at[0].digest);
  for (r = 0; !w.done(); ++r) {
    if (r % 5 == 0) {
      EXPECT_EQ(m.state_digest(), digest_at[r]) << "round " << r;
    }
    w.round();
  }
  EXPECT_EQ(r, end);
  EXPECT_EQ(m.state_digest(), final_digest);
  EXPECT_EQ(w.serial.out, output);
}

TEST(Checkpoints, BytesStayProportionalToPagesWritten) {
  World w(empty_machine(1, 64ull << 20));
  Machine& m = *w.m;
  Checkpoints cps(m);
  cps.take();  // RAM holds only the device tree
  EXPECT_LE(cps.last_pages_saved(), 4u);
  size_t base = cps.bytes();
  EXPECT_LT(base, 256u * 1024);  // the machine state, the device tree and the page index
  std::vector<uint8_t> page(4096, 1);
  for (int i = 0; i < 100; ++i) m.write_phys(kRam + uint64_t(i) * 4096 * 3, page.data(), page.size());
  cps.take();
  EXPECT_EQ(cps.last_pages_saved(), 100u);
  size_t after = cps.bytes();
  EXPECT_GE(after - base, 100u * 4096);
  EXPECT_LT(after - base, 100u * 4096 + 100u * 64 + 16 * 1024);
  // Written again with the same contents: nothing new is kept.
  for (int i = 0; i < 100; ++i) m.write_phys(kRam + uint64_t(i) * 4096 * 3, page.data(), page.size());
  cps.take();
  EXPECT_EQ(cps.last_pages_saved(), 0u);
  EXPECT_LT(cps.bytes() - after, 16u * 1024);
  // Restoring to the first checkpoint drops the copies.
  cps.restore(0);
  EXPECT_EQ(cps.last_pages_restored(), 100u);
  EXPECT_EQ(cps.bytes(), base);
  EXPECT_EQ(peek<uint8_t>(m, kRam), 0u);
  EXPECT_THROW(cps.restore(1), std::out_of_range);
}

// Timings for docs and the integrator (printed, not asserted).
TEST(Checkpoints, Timings128MiB) {
  World w(empty_machine(4, 128ull << 20));
  Machine& m = *w.m;
  Checkpoints cps(m);
  using clk = std::chrono::steady_clock;
  auto ms = [](clk::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  // Some non-zero content so the first checkpoint copies something: 4 MiB.
  std::vector<uint8_t> page(4096);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1024; ++i) {
    for (auto& b : page) b = static_cast<uint8_t>(rng());
    m.write_phys(kRam + uint64_t(i) * 4096, page.data(), page.size());
  }
  auto t0 = clk::now();
  cps.take();
  auto t1 = clk::now();
  std::printf("[timing] first take (128 MiB, 1024 non-zero pages): %.2f ms\n", ms(t1 - t0));
  auto t2 = clk::now();
  uint64_t d = m.state_digest();
  auto t3 = clk::now();
  std::printf("[timing] state_digest (128 MiB): %.2f ms (%016llx)\n", ms(t3 - t2), (unsigned long long)d);
  for (int n : {1, 100, 10000, 10000}) {  // 10000 twice: the second reuses freed host memory
    for (int i = 0; i < n; ++i) {
      uint64_t pa = kRam + (uint64_t(i) * 4096 * 3) % (128ull << 20);
      uint64_t v = rng();
      m.write_phys(pa, &v, 8);
    }
    auto a = clk::now();
    size_t id = cps.take();
    auto b = clk::now();
    for (int i = 0; i < n; ++i) {
      uint64_t pa = kRam + (uint64_t(i) * 4096 * 3) % (128ull << 20);
      uint64_t v = rng();
      m.write_phys(pa, &v, 8);
    }
    auto c2 = clk::now();
    cps.restore(id);
    auto e = clk::now();
    std::printf("[timing] %5d pages written: take %.3f ms, restore %.3f ms (bytes held %zu)\n", n, ms(b - a),
                ms(e - c2), cps.bytes());
  }
}

#include "machine/virtio_blk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "machine/config.h"
#include "machine/state.h"

static_assert(std::endian::native == std::endian::little, "virtio structures are read as little-endian");

namespace machine {

namespace {
constexpr uint32_t kMagicValue = 0x74726976;  // "virt"
constexpr uint32_t kVendorQemu = 0x554d4551;  // "QEMU"
constexpr uint32_t kBlockDeviceId = 2;
constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint32_t kIntUsedBuffer = 1, kIntConfigChange = 2;
constexpr uint64_t kChunk = 1 << 20;    // host bounce buffer for data transfers
constexpr unsigned kMaxIndirect = 4096;  // descriptors in one indirect table

struct Desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(Desc) == 16);

template <class T>
void put_le(std::vector<uint8_t>& buf, size_t off, T v) {
  std::memcpy(buf.data() + off, &v, sizeof v);
}
}  // namespace

// The readable or writable bytes of a descriptor chain as one stream.
class VirtioBlk::Chain {
 public:
  Chain(const std::vector<Seg>& segs, bool writable, const GuestMemory& mem) : mem_(mem) {
    for (const Seg& s : segs)
      if (s.write == writable && s.len) {
        segs_.push_back(s);
        total_ += s.len;
      }
  }
  uint64_t total() const { return total_; }
  // Copies len bytes at stream offset `off`; false on a guest memory fault.
  bool read(uint64_t off, void* dst, uint64_t len) const {
    return walk(off, len, [&](uint64_t pa, uint64_t done, uint64_t n) {
      return mem_.read(pa, static_cast<uint8_t*>(dst) + done, n);
    });
  }
  bool write(uint64_t off, const void* src, uint64_t len) const {
    return walk(off, len, [&](uint64_t pa, uint64_t done, uint64_t n) {
      return mem_.write(pa, static_cast<const uint8_t*>(src) + done, n);
    });
  }

 private:
  template <class F>
  bool walk(uint64_t off, uint64_t len, F&& f) const {
    uint64_t done = 0;
    for (const Seg& s : segs_) {
      if (done == len) break;
      if (off >= s.len) {
        off -= s.len;
        continue;
      }
      uint64_t n = std::min<uint64_t>(s.len - off, len - done);
      if (!f(s.addr + off, done, n)) return false;
      done += n;
      off = 0;
    }
    return done == len;
  }
  const GuestMemory& mem_;
  std::vector<Seg> segs_;
  uint64_t total_ = 0;
};

VirtioBlk::VirtioBlk(IrqSource& irq, unsigned source, GuestMemory mem)
    : irq_(irq), source_(source), mem_(std::move(mem)) {}

VirtioBlk::~VirtioBlk() {
  if (fd_ >= 0) ::close(fd_);
}

void VirtioBlk::attach(const std::string& path, bool readonly, const std::string& serial, bool snapshot,
                       DriveConfig::Cache cache) {
  std::lock_guard<std::mutex> lk(mu_);
  bool writes = !readonly && !snapshot;
  int flags = (writes ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not hang open()
  if (writes && cache == DriveConfig::Cache::kWritethrough) flags |= O_DSYNC;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0)
    throw ConfigError("cannot open disk image '" + path + "': " + std::strerror(errno) +
                      (!readonly && (errno == EACCES || errno == EROFS) ? " (use readonly=on for a read-only drive)"
                                                                         : ""));
  struct stat st;
  off_t size = -1;
  if (::fstat(fd, &st) == 0) {
    if (S_ISREG(st.st_mode)) size = st.st_size;
    else if (S_ISBLK(st.st_mode)) size = ::lseek(fd, 0, SEEK_END);
  }
  if (size < 0) {
    ::close(fd);
    throw ConfigError("disk image '" + path + "' is not a regular file or block device");
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  // Two machines writing one image corrupt it; so would one writing while
  // another reads. Readers share the image. An image attached before is
  // let go first (attaching the same image again must not conflict).
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  struct flock lock {};
  lock.l_type = writes ? F_WRLCK : F_RDLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EAGAIN || err == EACCES)
      throw ConfigError("disk image '" + path + "' is in use: another coremu (or another program, or another "
                        "drive of this machine) holds a lock on it" +
                        (writes ? std::string(" (a writable drive needs the image to itself; several machines can "
                                              "share it with readonly=on or snapshot=on)")
                                : std::string(" and writes to it (stop it, or give this machine a copy)")));
    throw ConfigError("cannot lock disk image '" + path + "': " + std::strerror(err));
  }
  fd_ = fd;
  readonly_ = readonly;
  snapshot_ = snapshot;
  cache_ = cache;
  overlay_.clear();
  capacity_ = static_cast<uint64_t>(size) / kSectorSize;
  serial_ = serial.substr(0, 20);
}

size_t VirtioBlk::overlay_sectors() const {
  std::lock_guard<std::mutex> lk(mu_);
  return overlay_.size();
}

bool VirtioBlk::disk_read(uint64_t offset, uint8_t* buf, uint64_t len) {
  ssize_t r = ::pread(fd_, buf, len, static_cast<off_t>(offset));
  if (r != static_cast<ssize_t>(len)) return false;
  if (!overlay_.empty()) {  // offset and len are whole sectors
    uint64_t first = offset / kSectorSize, end = (offset + len) / kSectorSize;
    for (auto it = overlay_.lower_bound(first); it != overlay_.end() && it->first < end; ++it)
      std::memcpy(buf + (it->first - first) * kSectorSize, it->second.data(), kSectorSize);
  }
  return true;
}

bool VirtioBlk::disk_write(uint64_t offset, const uint8_t* buf, uint64_t len) {
  if (!snapshot_) return ::pwrite(fd_, buf, len, static_cast<off_t>(offset)) == static_cast<ssize_t>(len);
  for (uint64_t done = 0; done < len; done += kSectorSize)
    std::memcpy(overlay_[(offset + done) / kSectorSize].data(), buf + done, kSectorSize);
  return true;
}

namespace {
constexpr uint32_t kVirtioTag = 0x4f495456;  // "VTIO"
}

void VirtioBlk::save(StateWriter& w) const {
  std::lock_guard<std::mutex> lk(mu_);
  w.u32(kVirtioTag);
  w.boolean(fd_ >= 0);
  w.u64(capacity_);
  w.u32(status_);
  w.u32(device_features_sel_);
  w.u32(driver_features_sel_);
  w.u64(driver_features_);
  w.u32(queue_sel_);
  w.u32(interrupt_status_);
  w.boolean(irq_level_);
  w.u32(num_);
  w.boolean(ready_);
  w.u64(desc_);
  w.u64(avail_);
  w.u64(used_);
  w.u32(last_avail_);
  w.u32(used_idx_);
  if (w.for_digest) return;  // the disk's contents are not part of a digest (state.h)
  w.u64(overlay_.size());
  for (const auto& [sector, data] : overlay_) {
    w.u64(sector);
    w.bytes(data.data(), data.size());
  }
}

void VirtioBlk::load(StateReader& r) {
  r.expect_u32(kVirtioTag, "virtio-blk state");
  bool attached = r.boolean();
  uint64_t capacity = r.u64();
  uint32_t status = r.u32(), dfsel = r.u32(), drfsel = r.u32();
  uint64_t drf = r.u64();
  uint32_t qsel = r.u32(), isr = r.u32();
  bool level = r.boolean();
  uint32_t num = r.u32();
  bool ready = r.boolean();
  uint64_t desc = r.u64(), avail = r.u64(), used = r.u64();
  uint32_t last_avail = r.u32(), used_idx = r.u32();
  uint64_t n = r.u64();
  if (n > r.remaining() / (8 + kSectorSize)) StateReader::fail("virtio-blk overlay too long");
  std::map<uint64_t, std::array<uint8_t, kSectorSize>> overlay;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t sector = r.u64();
    r.bytes(overlay[sector].data(), kSectorSize);
  }
  std::lock_guard<std::mutex> lk(mu_);
  if (attached != (fd_ >= 0) || capacity != capacity_) StateReader::fail("virtio-blk state for another drive");
  if (n && !snapshot_) StateReader::fail("virtio-blk state with an overlay for a drive without snapshot=on");
  if (num < 1 || num > kQueueSize) StateReader::fail("virtio-blk queue size out of range");
  status_ = status;
  device_features_sel_ = dfsel;
  driver_features_sel_ = drfsel;
  driver_features_ = drf;
  queue_sel_ = qsel;
  interrupt_status_ = isr;
  irq_level_ = level;
  num_ = num;
  ready_ = ready;
  desc_ = desc;
  avail_ = avail;
  used_ = used;
  last_avail_ = static_cast<uint16_t>(last_avail);
  used_idx_ = static_cast<uint16_t>(used_idx);
  overlay_ = std::move(overlay);
}

uint64_t VirtioBlk::device_features() const {
  uint64_t f = (1ull << kFVersion1) | (1ull << kFSegMax) | (1ull << kFBlkSize) | (1ull << kFFlush) |
               (1ull << kFIndirectDesc);
  if (readonly_) f |= 1ull << kFRo;
  return f;
}

void VirtioBlk::reset() {
  std::lock_guard<std::mutex> lk(mu_);
  reset_locked();
}

void VirtioBlk::reset_locked() {
  status_ = 0;
  device_features_sel_ = driver_features_sel_ = 0;
  driver_features_ = 0;
  queue_sel_ = 0;
  interrupt_status_ = 0;
  num_ = kQueueSize;
  ready_ = false;
  desc_ = avail_ = used_ = 0;
  last_avail_ = used_idx_ = 0;
  update_irq();
}

void VirtioBlk::update_irq() {
  bool level = interrupt_status_ != 0;
  if (level != irq_level_) {
    irq_level_ = level;
    irq_.set_irq(source_, level);
  }
}

std::vector<uint8_t> VirtioBlk::config_space() const {
  std::vector<uint8_t> c(0x40, 0);
  put_le<uint64_t>(c, 0x00, capacity_);          // capacity
  put_le<uint32_t>(c, 0x0c, kQueueSize - 2);     // seg_max
  put_le<uint32_t>(c, 0x14, kSectorSize);        // blk_size
  return c;
}

bool VirtioBlk::read(uint64_t offset, unsigned size, uint64_t& value) {
  std::lock_guard<std::mutex> lk(mu_);
  value = 0;
  if (offset >= kConfig) {
    if (fd_ < 0) return true;
    std::vector<uint8_t> c = config_space();
    uint64_t off = offset - kConfig;
    if (off + size <= c.size()) std::memcpy(&value, c.data() + off, size);
    return true;
  }
  if (size != 4) return true;  // registers are 32-bit; other sizes read as 0
  switch (offset) {
    case kMagic: value = kMagicValue; return true;
    case kVersion: value = 2; return true;
    case kDeviceId: value = fd_ >= 0 ? kBlockDeviceId : 0; return true;
    case kVendorId: value = kVendorQemu; return true;
    default: break;
  }
  if (fd_ < 0) return true;
  switch (offset) {
    case kDeviceFeatures:
      value = device_features_sel_ == 0 ? device_features() & 0xffffffff
              : device_features_sel_ == 1 ? device_features() >> 32 : 0;
      break;
    case kQueueNumMax: value = queue_sel_ == 0 ? kQueueSize : 0; break;
    case kQueueNum: value = queue_sel_ == 0 ? num_ : 0; break;
    case kQueueReady: value = queue_sel_ == 0 && ready_; break;
    case kInterruptStatus: value = interrupt_status_; break;
    case kStatus: value = status_; break;
    case kQueueDescLow: value = queue_sel_ == 0 ? desc_ & 0xffffffff : 0; break;
    case kQueueDescHigh: value = queue_sel_ == 0 ? desc_ >> 32 : 0; break;
    case kQueueDriverLow: value = queue_sel_ == 0 ? avail_ & 0xffffffff : 0; break;
    case kQueueDriverHigh: value = queue_sel_ == 0 ? avail_ >> 32 : 0; break;
    case kQueueDeviceLow: value = queue_sel_ == 0 ? used_ & 0xffffffff : 0; break;
    case kQueueDeviceHigh: value = queue_sel_ == 0 ? used_ >> 32 : 0; break;
    case kConfigGeneration: value = 0; break;
    default: break;
  }
  return true;
}

void VirtioBlk::set_status(uint32_t value) {
  if (value == 0) {
    reset_locked();
    return;
  }
  value &= 0xff;
  if ((value & kFeaturesOk) && !(status_ & kFeaturesOk)) {
    // Accept the features if they are a subset of ours. A driver that never
    // writes the high feature word (xv6 does not) leaves VIRTIO_F_VERSION_1
    // unacknowledged; the spec (6.2) lets a device refuse that, but QEMU
    // accepts it and keeps the 1.x ring layout, and so do we: MMIO version 2
    // has no legacy interface to fall back to.
    bool ok = (driver_features_ & ~device_features()) == 0;
    if (!ok) value &= ~kFeaturesOk;
  }
  status_ = value | (status_ & kNeedsReset);
}

bool VirtioBlk::write(uint64_t offset, unsigned size, uint64_t value) {
  std::lock_guard<std::mutex> lk(mu_);
  if (fd_ < 0 || offset >= kConfig || size != 4) return true;  // config space is read-only
  uint32_t v = static_cast<uint32_t>(value);
  auto set_lo = [v](uint64_t& r) { r = (r & ~0xffffffffull) | v; };
  auto set_hi = [v](uint64_t& r) { r = (r & 0xffffffffull) | (uint64_t{v} << 32); };
  // Queue configuration may only change while the queue is not ready.
  bool queue_writable = queue_sel_ == 0 && !ready_;
  switch (offset) {
    case kDeviceFeaturesSel: device_features_sel_ = v; break;
    case kDriverFeatures:
      if (status_ & kFeaturesOk) break;
      if (driver_features_sel_ == 0) set_lo(driver_features_);
      else if (driver_features_sel_ == 1) set_hi(driver_features_);
      break;
    case kDriverFeaturesSel: driver_features_sel_ = v; break;
    case kQueueSel: queue_sel_ = v; break;
    case kQueueNum:
      if (queue_writable && v >= 1 && v <= kQueueSize) num_ = v;
      break;
    case kQueueReady:
      if (queue_sel_ != 0) break;
      if ((v & 1) && !ready_) {
        ready_ = true;
        last_avail_ = used_idx_ = 0;
      } else if (!(v & 1)) {
        ready_ = false;
      }
      break;
    case kQueueNotify:
      if (v == 0 && ready_ && (status_ & kDriverOk) && !(status_ & kNeedsReset)) process_queue();
      break;
    case kInterruptAck:
      interrupt_status_ &= ~v;
      update_irq();
      break;
    case kStatus: set_status(v); break;
    case kQueueDescLow: if (queue_writable) set_lo(desc_); break;
    case kQueueDescHigh: if (queue_writable) set_hi(desc_); break;
    case kQueueDriverLow: if (queue_writable) set_lo(avail_); break;
    case kQueueDriverHigh: if (queue_writable) set_hi(avail_); break;
    case kQueueDeviceLow: if (queue_writable) set_lo(used_); break;
    case kQueueDeviceHigh: if (queue_writable) set_hi(used_); break;
    default: break;
  }
  return true;
}

void VirtioBlk::fail() {
  status_ |= kNeedsReset;
  if (status_ & kDriverOk) {
    interrupt_status_ |= kIntConfigChange;
    update_irq();
  }
}

bool VirtioBlk::collect(uint16_t head, std::vector<Seg>& segs) {
  segs.clear();
  auto read_desc = [this](uint64_t table, uint32_t i, Desc& d) { return mem_.read(table + 16ull * i, &d, 16); };
  uint32_t i = head;
  for (uint32_t steps = 0;; ++steps) {
    if (i >= num_ || steps >= num_) return false;  // out of range, or a loop
    Desc d;
    if (!read_desc(desc_, i, d)) return false;
    if (d.flags & kDescIndirect) {
      if (d.len == 0 || d.len % 16 != 0 || d.len / 16 > kMaxIndirect) return false;
      uint32_t n = d.len / 16, j = 0;
      for (uint32_t isteps = 0;; ++isteps) {
        if (j >= n || isteps >= n) return false;
        Desc e;
        if (!read_desc(d.addr, j, e)) return false;
        if (e.flags & kDescIndirect) return false;  // no nesting
        segs.push_back({e.addr, e.len, (e.flags & kDescWrite) != 0});
        if (!(e.flags & kDescNext)) break;
        j = e.next;
      }
      return true;  // an indirect descriptor ends the main chain
    }
    segs.push_back({d.addr, d.len, (d.flags & kDescWrite) != 0});
    if (!(d.flags & kDescNext)) return true;
    i = d.next;
  }
}

bool VirtioBlk::execute(const std::vector<Seg>& segs, uint32_t& used_len) {
  Chain rd(segs, false, mem_), wr(segs, true, mem_);  // device-readable, device-writable bytes
  used_len = 0;
  struct {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
  } hdr;
  static_assert(sizeof hdr == 16);
  if (rd.total() < sizeof hdr || wr.total() < 1) return false;  // no header or no status byte
  if (!rd.read(0, &hdr, sizeof hdr)) return false;
  uint64_t status_off = wr.total() - 1;
  uint8_t status = kSOk;
  uint64_t written = 0;

  auto range_ok = [&](uint64_t len) {
    if (len % kSectorSize) return false;
    uint64_t sectors = len / kSectorSize;
    return hdr.sector <= capacity_ && sectors <= capacity_ - hdr.sector;
  };
  std::vector<uint8_t> buf;
  switch (hdr.type) {
    case kTIn: {
      uint64_t len = status_off;
      if (!range_ok(len)) {
        status = kSIoErr;
        break;
      }
      buf.resize(static_cast<size_t>(std::min(len, kChunk)));
      for (uint64_t done = 0; done < len;) {
        uint64_t n = std::min<uint64_t>(len - done, buf.size());
        if (!disk_read(hdr.sector * kSectorSize + done, buf.data(), n)) {
          status = kSIoErr;
          break;
        }
        if (!wr.write(done, buf.data(), n)) return false;
        done += n;
        written = done;
      }
      break;
    }
    case kTOut: {
      uint64_t len = rd.total() - sizeof hdr;
      if (readonly_ || !range_ok(len)) {
        status = kSIoErr;
        break;
      }
      buf.resize(static_cast<size_t>(std::min(len, kChunk)));
      for (uint64_t done = 0; done < len;) {
        uint64_t n = std::min<uint64_t>(len - done, buf.size());
        if (!rd.read(sizeof hdr + done, buf.data(), n)) return false;
        if (!disk_write(hdr.sector * kSectorSize + done, buf.data(), n)) {
          status = kSIoErr;
          break;
        }
        done += n;
      }
      break;
    }
    case kTFlush:
      if (!readonly_ && !snapshot_ && cache_ != DriveConfig::Cache::kUnsafe && ::fdatasync(fd_) != 0)
        status = kSIoErr;
      break;
    case kTGetId: {
      uint8_t id[20] = {};
      std::memcpy(id, serial_.data(), std::min<size_t>(serial_.size(), sizeof id));
      uint64_t n = std::min<uint64_t>(status_off, sizeof id);
      if (!wr.write(0, id, n)) return false;
      written = n;
      break;
    }
    default:
      status = kSUnsupp;
      break;
  }
  if (!wr.write(status_off, &status, 1)) return false;
  used_len = static_cast<uint32_t>(std::min<uint64_t>(written + 1, UINT32_MAX));
  return true;
}

void VirtioBlk::process_queue() {
  bool used_any = false;
  std::vector<Seg> segs;
  for (;;) {
    uint16_t avail_idx;
    if (!mem_.read(avail_ + 2, &avail_idx, 2)) return fail();
    if (avail_idx == last_avail_) break;
    if (static_cast<uint16_t>(avail_idx - last_avail_) > num_) return fail();  // driver corrupted its index
    std::atomic_thread_fence(std::memory_order_acquire);
    uint16_t head;
    if (!mem_.read(avail_ + 4 + 2ull * (last_avail_ % num_), &head, 2)) return fail();
    if (!collect(head, segs)) return fail();
    uint32_t len;
    if (!execute(segs, len)) return fail();
    struct {
      uint32_t id;
      uint32_t len;
    } elem{head, len};
    if (!mem_.write(used_ + 4 + 8ull * (used_idx_ % num_), &elem, 8)) return fail();
    ++used_idx_;
    ++last_avail_;
    std::atomic_thread_fence(std::memory_order_release);
    if (!mem_.write(used_ + 2, &used_idx_, 2)) return fail();
    used_any = true;
  }
  if (!used_any) return;
  uint16_t flags = 0;
  if (!mem_.read(avail_, &flags, 2)) return fail();
  if (!(flags & kAvailNoInterrupt)) {
    interrupt_status_ |= kIntUsedBuffer;
    update_irq();
  }
}

}  // namespace machine

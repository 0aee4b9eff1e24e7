// A virtio-mmio transport (virtio 1.x, MMIO version 2), optionally carrying a
// virtio-blk device backed by a raw image file.
//
// The queue is processed synchronously when the driver writes QueueNotify,
// on the notifying hart's thread under the device's lock. Data reaches guest
// RAM only through the GuestMemory callbacks (Machine::read_phys/write_phys),
// so decoded code in pages the device writes is invalidated. A guest that
// hands the device bad descriptors (addresses outside RAM, loops, malformed
// chains) gets DEVICE_NEEDS_RESET, never a host crash.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "machine/config.h"
#include "machine/device.h"

namespace machine {

class StateWriter;
class StateReader;

class VirtioBlk final : public Device {
 public:
  struct GuestMemory {
    std::function<bool(uint64_t pa, void* dst, uint64_t len)> read;
    std::function<bool(uint64_t pa, const void* src, uint64_t len)> write;
  };

  // Registers.
  static constexpr uint64_t kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c,
                            kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020,
                            kDriverFeaturesSel = 0x024, kQueueSel = 0x030, kQueueNumMax = 0x034,
                            kQueueNum = 0x038, kQueueReady = 0x044, kQueueNotify = 0x050,
                            kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
                            kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090,
                            kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4,
                            kConfigGeneration = 0x0fc, kConfig = 0x100;
  // Device status bits.
  static constexpr uint32_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8, kNeedsReset = 0x40,
                            kFailed = 0x80;
  // Feature bits.
  static constexpr unsigned kFSegMax = 2, kFRo = 5, kFBlkSize = 6, kFFlush = 9, kFIndirectDesc = 28,
                            kFVersion1 = 32;
  // Request types and statuses.
  static constexpr uint32_t kTIn = 0, kTOut = 1, kTFlush = 4, kTGetId = 8;
  static constexpr uint8_t kSOk = 0, kSIoErr = 1, kSUnsupp = 2;
  static constexpr uint32_t kQueueSize = 256;
  static constexpr uint64_t kSectorSize = 512;

  // An empty transport (device id 0) on PLIC `source`.
  VirtioBlk(IrqSource& irq, unsigned source, GuestMemory mem);
  ~VirtioBlk() override;
  VirtioBlk(const VirtioBlk&) = delete;
  VirtioBlk& operator=(const VirtioBlk&) = delete;

  // Plugs a raw image into this transport. `serial` is what GET_ID returns
  // (up to 20 bytes). With `snapshot` the file is opened read-only and the
  // guest's writes go to an in-memory overlay of sectors (QEMU's
  // snapshot=on). The image is locked for as long as it is attached (an
  // OFD lock, so it also holds against another VirtioBlk of this process):
  // exclusively when guest writes reach it, shared when it is read-only or
  // in snapshot mode. Throws ConfigError if the file cannot be opened, is
  // not a regular file or block device, or another process (or drive)
  // holds a conflicting lock.
  void attach(const std::string& path, bool readonly, const std::string& serial, bool snapshot = false,
              DriveConfig::Cache cache = DriveConfig::Cache::kWriteback);
  bool attached() const { return fd_ >= 0; }
  bool snapshot() const { return snapshot_; }
  // True unless guest writes reach the file (a writable drive without
  // snapshot): only then can a checkpoint of the machine be rolled back.
  bool rollback_safe() const { return fd_ < 0 || readonly_ || snapshot_; }
  // Sectors held in the snapshot overlay.
  size_t overlay_sectors() const;

  // Machine state: transport registers, queue configuration and indices,
  // status, interrupt status, and the snapshot overlay (all of it: its
  // size is what the guest wrote to the disk). Under the device's lock;
  // load() does not drive the interrupt line. The image file is not part
  // of the state: load() refuses a state for a drive of another capacity.
  void save(StateWriter& w) const;
  void load(StateReader& r);
  uint64_t capacity_sectors() const { return capacity_; }

  // Device reset (as when the driver writes 0 to Status); the image stays.
  void reset();

  bool read(uint64_t offset, unsigned size, uint64_t& value) override;
  bool write(uint64_t offset, unsigned size, uint64_t value) override;

 private:
  struct Seg {
    uint64_t addr;
    uint32_t len;
    bool write;
  };
  class Chain;

  uint64_t device_features() const;
  void reset_locked();
  void set_status(uint32_t value);
  void update_irq();
  void process_queue();
  // Reads the descriptor chain starting at `head`; false if it is malformed.
  bool collect(uint16_t head, std::vector<Seg>& segs);
  // Executes one request; false on a guest memory fault (the device then
  // needs a reset). `used_len` receives the bytes written to the guest.
  bool execute(const std::vector<Seg>& segs, uint32_t& used_len);
  void fail();  // enter DEVICE_NEEDS_RESET
  std::vector<uint8_t> config_space() const;
  // Disk access honouring the snapshot overlay; false on an I/O error.
  bool disk_read(uint64_t offset, uint8_t* buf, uint64_t len);
  bool disk_write(uint64_t offset, const uint8_t* buf, uint64_t len);

  mutable std::mutex mu_;
  IrqSource& irq_;
  unsigned source_;
  GuestMemory mem_;

  // Backing image.
  int fd_ = -1;
  bool readonly_ = false;
  uint64_t capacity_ = 0;  // in 512-byte sectors
  std::string serial_;
  bool snapshot_ = false;
  DriveConfig::Cache cache_ = DriveConfig::Cache::kWriteback;
  std::map<uint64_t, std::array<uint8_t, kSectorSize>> overlay_;  // sector -> data (snapshot mode)

  // Transport state.
  uint32_t status_ = 0;
  uint32_t device_features_sel_ = 0, driver_features_sel_ = 0;
  uint64_t driver_features_ = 0;
  uint32_t queue_sel_ = 0;
  uint32_t interrupt_status_ = 0;
  bool irq_level_ = false;
  // Queue 0.
  uint32_t num_ = kQueueSize;
  bool ready_ = false;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  uint16_t last_avail_ = 0, used_idx_ = 0;
};

}  // namespace machine

/* Writes one sector through a polled virtio-blk driver (virtio 1.x over
 * virtio-mmio), reads it back and prints it: the guest the record/replay
 * disk tests (tests/replay/safety_test.py) run, to see that a replay
 * leaves the image as it was. The first transport with a block device is
 * used; the sector written is given by the first byte of sector 0 (so the
 * test can see which sectors a run wrote). Hart 0 only; exit 0 on success. */
#include "guest.h"

#define VIRTIO_BASE 0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_COUNT 8
#define R(off) MMIO32(dev + (off))

struct desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
};
struct req {
  uint32_t type, reserved;
  uint64_t sector;
};

#define QSIZE 8
static struct desc descs[QSIZE] __attribute__((aligned(16)));
static struct {
  uint16_t flags, idx, ring[QSIZE], used_event;
} avail __attribute__((aligned(2)));
static struct {
  uint16_t flags, idx;
  struct {
    uint32_t id, len;
  } ring[QSIZE];
  uint16_t avail_event;
} used __attribute__((aligned(4)));
static struct req hdr;
static uint8_t data[512];
static volatile uint8_t status;
static uint16_t next_idx;

static void request(uint64_t dev, uint32_t type, uint64_t sector) {
  hdr.type = type;
  hdr.reserved = 0;
  hdr.sector = sector;
  status = 0xff;
  descs[0] = (struct desc){(uint64_t)(uintptr_t)&hdr, sizeof hdr, 1, 1};
  descs[1] = (struct desc){(uint64_t)(uintptr_t)data, sizeof data, (uint16_t)(1 | (type == 0 ? 2 : 0)), 2};
  descs[2] = (struct desc){(uint64_t)(uintptr_t)&status, 1, 2, 0};
  avail.ring[next_idx % QSIZE] = 0;
  __asm__ volatile("fence rw, rw" ::: "memory");
  avail.idx = ++next_idx;
  __asm__ volatile("fence rw, rw" ::: "memory");
  R(0x050) = 0; /* QueueNotify */
  while (*(volatile uint16_t *)&used.idx != next_idx) cpu_pause();
  CHECK_EQ(status, 0);
}

int main(unsigned hartid) {
  if (hartid != 0) park();
  uint64_t dev = 0;
  for (unsigned i = 0; i < VIRTIO_COUNT && !dev; ++i) {
    uint64_t a = VIRTIO_BASE + i * VIRTIO_STRIDE;
    if (MMIO32(a) == 0x74726976 && MMIO32(a + 8) == 2) dev = a;
  }
  CHECK(dev != 0);
  R(0x070) = 0;     /* reset */
  R(0x070) = 1 | 2; /* ACKNOWLEDGE | DRIVER */
  R(0x024) = 1;
  R(0x020) = 1; /* VIRTIO_F_VERSION_1 */
  R(0x024) = 0;
  R(0x020) = 0;
  R(0x070) = 1 | 2 | 8; /* FEATURES_OK */
  CHECK(R(0x070) & 8);
  R(0x030) = 0;
  CHECK(R(0x034) >= QSIZE);
  R(0x038) = QSIZE;
  R(0x080) = (uint32_t)(uintptr_t)descs;
  R(0x084) = 0;
  R(0x090) = (uint32_t)(uintptr_t)&avail;
  R(0x094) = 0;
  R(0x0a0) = (uint32_t)(uintptr_t)&used;
  R(0x0a4) = 0;
  R(0x044) = 1;
  R(0x070) = 1 | 2 | 8 | 4; /* DRIVER_OK */

  request(dev, 0, 0); /* read sector 0: which sector to write */
  uint64_t target = data[0] ? data[0] : 1;
  for (unsigned i = 0; i < sizeof data; ++i) data[i] = (uint8_t)('A' + (i + target) % 26);
  request(dev, 1, target); /* write */
  for (unsigned i = 0; i < sizeof data; ++i) data[i] = 0;
  request(dev, 0, target); /* read it back */
  CHECK_EQ(data[0], 'A' + target % 26);
  print_lock();
  uart_puts("disk_write: wrote sector ");
  uart_putdec(target);
  uart_puts("\n");
  print_unlock();
  guest_exit(0);
}

CHECKS_END();

// Writes seed logs for fuzz_replaylog into the directory argv[1]: a
// complete log (stored and zstd chunks, every record kind), one that ends
// without an end record, and logs whose option and image records describe
// machines with drives, an initrd and a dtb (the fuzzer mutates those
// into what replay must refuse).
#include <string>

#include "replay/log.h"

using replay::Record;

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  std::string dir = argv[1];
  replay::Header h;
  h.coremu_version = "0.1.0";
  h.args = {"-smp", "3", "-kernel", "a.elf"};
  h.images = {{"kernel", "a.elf", 4096, 0x1234}};
  h.harts = 3;
  h.quantum = 10000;
  h.digest_interval = 4;
  for (int complete = 0; complete < 2; complete++) {
    replay::LogWriter w(dir + (complete ? "/complete.log" : "/no-end.log"), h);
    Record r;
    r.kind = Record::kInput;
    r.bytes = {'l', 's', '\n'};
    w.add(r);
    w.flush(0);
    for (uint64_t s = 1; s < 40; s++) {
      r = Record{};
      r.slice = s;
      r.kind = Record::kInterrupt;
      r.hart = uint32_t(s % 3);
      r.icount = s * 10000 + 17;
      r.steps = r.icount + 2;
      r.cause = (1ull << 63) | 5;
      w.add(r);
      if (s % 4 == 0) {
        r.kind = Record::kDigest;
        r.harts = {{s, 1}, {s + 1, 2}, {s + 2, 3}};
        r.global_steps = 3 * s;
        r.digest = s * 0x9e3779b97f4a7c15ull;
        w.add(r);
      }
    }
    w.flush(39);
    if (complete) {
      r = Record{};
      r.slice = 40;
      r.global_steps = 123456;
      r.exit_status = 1;
      w.finish(r);
    }
  }
  // Option and image records: a machine with every kind of image.
  replay::Header m = h;
  m.args = {"-M", "virt", "-smp", "3", "-m", "256M", "-bios", "fw.bin", "-kernel", "a.elf", "-initrd", "r.cpio",
            "-dtb", "b.dtb", "-append", "console=ttyS0", "-drive", "file=d.img,if=none,format=raw,id=x0,readonly=on",
            "-device", "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.1", "-drive", "file=e.img,format=raw,if=virtio",
            "-no-reboot", "--chaos", "7"};
  m.images = {{"bios", "fw.bin", 100, 1}, {"kernel", "a.elf", 4096, 2},  {"initrd", "r.cpio", 512, 3},
              {"dtb", "b.dtb", 64, 4},    {"drive x0", "d.img", 1 << 20, 5}, {"drive virtio0", "e.img", 1 << 20, 6}};
  m.chaos = true;
  m.chaos_seed = 7;
  for (const char* name : {"/machine.log", "/demo.log"}) {
    replay::LogWriter w(dir + name, m);
    Record r;
    r.slice = 1;
    r.global_steps = 10;
    w.finish(r);
    m.args.clear();  // the bundled demo: no options
    m.images = {{"kernel", "demo.elf", 4096, 2}};
  }
  return 0;
}

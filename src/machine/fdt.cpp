// The device tree of the virt board, generated from memmap.h and the
// configuration with libfdt's sequential-write API. Node names, properties
// and the order of the virtio transports follow QEMU 7.2's `-M virt`, so
// guests written for it find the same devices (and name disks the same way).
#include <libfdt.h>

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "machine/loader.h"
#include "machine/machine.h"
#include "machine/plic.h"

namespace machine {

namespace {

constexpr const char* kIsa = "rv64imafdc_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc";
constexpr uint32_t kUartClockHz = 0x384000;
constexpr uint64_t k2MiB = 2ull << 20, k3GiB = 3ull << 30;

struct NoSpace {};

// Thin RAII-free wrapper over the sequential-write calls: any libfdt error
// other than running out of buffer is a bug here, not bad input.
class Writer {
 public:
  explicit Writer(size_t cap) : buf_(cap) {
    ok(fdt_create(buf_.data(), static_cast<int>(cap)));
    ok(fdt_finish_reservemap(buf_.data()));
  }
  void begin(const std::string& name) { ok(fdt_begin_node(buf_.data(), name.c_str())); }
  void end() { ok(fdt_end_node(buf_.data())); }
  void u32(const char* name, uint32_t v) { ok(fdt_property_u32(buf_.data(), name, v)); }
  void u64(const char* name, uint64_t v) { ok(fdt_property_u64(buf_.data(), name, v)); }
  void cells(const char* name, const std::vector<uint32_t>& v) {
    std::vector<fdt32_t> be;
    for (uint32_t c : v) be.push_back(cpu_to_fdt32(c));
    ok(fdt_property(buf_.data(), name, be.data(), static_cast<int>(be.size() * sizeof(fdt32_t))));
  }
  // reg = <base-hi base-lo size-hi size-lo> (#address-cells = #size-cells = 2).
  void reg(uint64_t base, uint64_t size) {
    cells("reg", {static_cast<uint32_t>(base >> 32), static_cast<uint32_t>(base), static_cast<uint32_t>(size >> 32),
                  static_cast<uint32_t>(size)});
  }
  void str(const char* name, const std::string& s) { ok(fdt_property_string(buf_.data(), name, s.c_str())); }
  void strs(const char* name, std::initializer_list<const char*> list) {
    std::string all;
    for (const char* s : list) {
      all += s;
      all.push_back('\0');
    }
    ok(fdt_property(buf_.data(), name, all.data(), static_cast<int>(all.size())));
  }
  void empty(const char* name) { ok(fdt_property(buf_.data(), name, nullptr, 0)); }
  std::vector<uint8_t> finish() {
    ok(fdt_finish(buf_.data()));
    std::vector<uint8_t> out(buf_.size());
    ok(fdt_open_into(buf_.data(), out.data(), static_cast<int>(out.size())));
    ok(fdt_pack(out.data()));
    out.resize(fdt_totalsize(out.data()));
    return out;
  }

 private:
  static void ok(int rc) {
    if (rc == -FDT_ERR_NOSPACE) throw NoSpace{};
    if (rc < 0) throw std::logic_error(std::string("device tree generation failed: ") + fdt_strerror(rc));
  }
  std::vector<uint8_t> buf_;
};

void write_tree(Writer& w, const FdtParams& p) {
  // Phandles: PLIC 1, test device 2, then per hart its cpu and its intc.
  constexpr uint32_t kPlicPh = 1, kTestPh = 2;
  auto cpu_ph = [](unsigned h) { return 3 + 2 * h; };
  auto intc_ph = [](unsigned h) { return 4 + 2 * h; };

  w.begin("");
  w.u32("#address-cells", 2);
  w.u32("#size-cells", 2);
  w.str("compatible", "riscv-virtio");
  w.str("model", "riscv-virtio,qemu");

  w.begin("chosen");
  w.str("stdout-path", fmt::format("/soc/serial@{:x}", memmap::kUartBase));
  if (!p.bootargs.empty()) w.str("bootargs", p.bootargs);
  if (p.initrd_start) {
    w.u64("linux,initrd-start", *p.initrd_start);
    w.u64("linux,initrd-end", p.initrd_end);
  }
  w.end();

  w.begin("poweroff");
  w.u32("value", 0x5555);
  w.u32("offset", 0);
  w.u32("regmap", kTestPh);
  w.str("compatible", "syscon-poweroff");
  w.end();

  w.begin("reboot");
  w.u32("value", 0x7777);
  w.u32("offset", 0);
  w.u32("regmap", kTestPh);
  w.str("compatible", "syscon-reboot");
  w.end();

  w.begin(fmt::format("memory@{:x}", p.ram_base));
  w.str("device_type", "memory");
  w.reg(p.ram_base, p.ram_size);
  w.end();

  w.begin("cpus");
  w.u32("#address-cells", 1);
  w.u32("#size-cells", 0);
  w.u32("timebase-frequency", static_cast<uint32_t>(memmap::kTimebaseHz));
  for (unsigned h = 0; h < p.num_harts; ++h) {
    w.begin(fmt::format("cpu@{:x}", h));
    w.u32("phandle", cpu_ph(h));
    w.str("device_type", "cpu");
    w.u32("reg", h);
    w.str("status", "okay");
    w.str("compatible", "riscv");
    w.str("riscv,isa", kIsa);
    w.str("mmu-type", "riscv,sv48");
    w.begin("interrupt-controller");
    w.u32("#interrupt-cells", 1);
    w.empty("interrupt-controller");
    w.str("compatible", "riscv,cpu-intc");
    w.u32("phandle", intc_ph(h));
    w.end();
    w.end();
  }
  // No cpu-map (QEMU has one cluster of every core): it tells Linux
  // nothing it would not assume, and Linux 6.1 parses it in time cubic in
  // the hart count (about 3e9 guest instructions at 255 harts).
  w.end();  // cpus

  w.begin("soc");
  w.u32("#address-cells", 2);
  w.u32("#size-cells", 2);
  w.str("compatible", "simple-bus");
  w.empty("ranges");

  w.begin(fmt::format("serial@{:x}", memmap::kUartBase));
  w.u32("interrupts", memmap::kUartIrq);
  w.u32("interrupt-parent", kPlicPh);
  w.u32("clock-frequency", kUartClockHz);
  w.reg(memmap::kUartBase, memmap::kUartSize);
  w.str("compatible", "ns16550a");
  w.end();

  w.begin(fmt::format("test@{:x}", memmap::kTestBase));
  w.u32("phandle", kTestPh);
  w.reg(memmap::kTestBase, memmap::kTestSize);
  w.strs("compatible", {"sifive,test1", "sifive,test0", "syscon"});
  w.end();

  // Highest transport first, as QEMU lists them: Linux probes in this order,
  // so the first disk (QEMU puts it on the highest free transport) is vda.
  for (unsigned n = memmap::kVirtioCount; n-- > 0;) {
    uint64_t base = memmap::kVirtioBase + n * memmap::kVirtioStride;
    w.begin(fmt::format("virtio_mmio@{:x}", base));
    w.u32("interrupts", memmap::kVirtioIrqBase + n);
    w.u32("interrupt-parent", kPlicPh);
    w.reg(base, memmap::kVirtioStride);
    w.str("compatible", "virtio,mmio");
    w.end();
  }

  std::vector<uint32_t> plic_ext, clint_ext;
  for (unsigned h = 0; h < p.num_harts; ++h) {
    plic_ext.insert(plic_ext.end(), {intc_ph(h), rv64::kMEI, intc_ph(h), rv64::kSEI});
    clint_ext.insert(clint_ext.end(), {intc_ph(h), rv64::kMSI, intc_ph(h), rv64::kMTI});
  }
  w.begin(fmt::format("plic@{:x}", memmap::kPlicBase));
  w.u32("phandle", kPlicPh);
  w.u32("riscv,ndev", memmap::kPlicSources - 1);
  w.reg(memmap::kPlicBase, p.plic_size);
  w.cells("interrupts-extended", plic_ext);
  w.empty("interrupt-controller");
  w.strs("compatible", {"sifive,plic-1.0.0", "riscv,plic0"});
  w.u32("#address-cells", 0);
  w.u32("#interrupt-cells", 1);
  w.end();

  w.begin(fmt::format("clint@{:x}", memmap::kClintBase));
  w.cells("interrupts-extended", clint_ext);
  w.reg(memmap::kClintBase, memmap::kClintSize);
  w.strs("compatible", {"sifive,clint0", "riscv,clint0"});
  w.end();

  w.end();  // soc
  w.end();  // root
}

}  // namespace

std::vector<uint8_t> make_fdt(const FdtParams& p) {
  size_t cap = 8192 + size_t{1024} * p.num_harts + p.bootargs.size();
  for (;;) {
    try {
      Writer w(cap);
      write_tree(w, p);
      return w.finish();
    } catch (const NoSpace&) {
      cap *= 2;
    }
  }
}

namespace {

uint32_t be32_at(const std::vector<uint8_t>& b, uint64_t off) {
  return uint32_t{b[off]} << 24 | uint32_t{b[off + 1]} << 16 | uint32_t{b[off + 2]} << 8 | b[off + 3];
}

// Checks the structure of a version-17 blob before libfdt touches it: every
// block inside the blob, tokens well formed and nested, names and property
// values inside their blocks. (libfdt's own fdt_check_full crashes or loops
// on some malformed blobs: found by fuzz_dtb.) Returns "" or what is wrong.
std::string check_structure(const std::vector<uint8_t>& b) {
  uint64_t total = fdt_totalsize(b.data());
  uint64_t st = fdt_off_dt_struct(b.data()), st_size = fdt_size_dt_struct(b.data());
  uint64_t str = fdt_off_dt_strings(b.data()), str_size = fdt_size_dt_strings(b.data());
  uint64_t rsv = fdt_off_mem_rsvmap(b.data());
  if (st % 4 || st + st_size > total || str + str_size > total || rsv % 8 || rsv + 16 > total)
    return "a block lies outside the blob";
  for (uint64_t r = rsv;; r += 16) {  // memory reservations: up to an all-zero entry
    if (r + 16 > total) return "unterminated memory reservation map";
    bool zero = true;
    for (unsigned k = 0; k < 16; ++k) zero &= b[r + k] == 0;
    if (zero) break;
  }
  uint64_t pos = 0;
  int depth = 0;
  bool root_seen = false;
  for (;;) {
    if (pos + 4 > st_size) return "structure block ends without FDT_END";
    uint32_t tok = be32_at(b, st + pos);
    pos += 4;
    switch (tok) {
      case FDT_BEGIN_NODE: {
        if (depth == 0 && root_seen) return "more than one root node";
        root_seen = true;
        uint64_t end = pos;
        while (end < st_size && b[st + end] != 0) ++end;
        if (end >= st_size) return "unterminated node name";
        pos = (end + 1 + 3) & ~uint64_t{3};
        if (++depth > 64) return "nodes nested too deeply";
        break;
      }
      case FDT_END_NODE:
        if (--depth < 0) return "unbalanced end of node";
        break;
      case FDT_PROP: {
        if (depth == 0) return "property outside a node";
        if (pos + 8 > st_size) return "truncated property";
        uint64_t len = be32_at(b, st + pos), nameoff = be32_at(b, st + pos + 4);
        pos += 8;
        if (len > st_size - pos) return "property value outside the structure block";
        if (nameoff >= str_size) return "property name outside the strings block";
        uint64_t e = nameoff;
        while (e < str_size && b[str + e] != 0) ++e;
        if (e >= str_size) return "unterminated property name";
        pos = (pos + len + 3) & ~uint64_t{3};
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (depth != 0 || !root_seen) return "unbalanced nodes at FDT_END";
        return "";
      default:
        return fmt::format("unknown token {:#x}", tok);
    }
  }
}

}  // namespace

std::vector<uint8_t> patch_fdt(std::vector<uint8_t> blob, std::string_view path, const FdtParams& p) {
  auto bad = [&](const std::string& why) { return ConfigError(fmt::format("device tree '{}': {}", path, why)); };
  if (blob.size() < sizeof(fdt_header)) throw bad("file too small to be a flattened device tree");
  int rc = fdt_check_header(blob.data());
  if (rc != 0) throw bad(fmt::format("not a valid flattened device tree ({})", fdt_strerror(rc)));
  if (fdt_totalsize(blob.data()) > blob.size()) throw bad("truncated (header's totalsize exceeds the file)");
  // Only version 17 blobs (what dtc and every firmware write).
  if (fdt_version(blob.data()) < 17 || fdt_last_comp_version(blob.data()) > 17)
    throw bad(fmt::format("unsupported device tree version {} (last compatible {}); version 17 is needed",
                          fdt_version(blob.data()), fdt_last_comp_version(blob.data())));
  if (std::string why = check_structure(blob); !why.empty())
    throw bad(fmt::format("malformed flattened device tree ({})", why));
  if (p.bootargs.empty() && !p.initrd_start) return blob;

  std::vector<uint8_t> out(fdt_totalsize(blob.data()) + 4096 + p.bootargs.size());
  void* f = out.data();
  rc = fdt_open_into(blob.data(), f, static_cast<int>(out.size()));
  if (rc != 0) throw bad(fmt::format("cannot be opened ({})", fdt_strerror(rc)));
  int chosen = fdt_path_offset(f, "/chosen");
  if (chosen < 0) chosen = fdt_add_subnode(f, 0, "chosen");
  if (chosen < 0) throw bad(fmt::format("cannot add /chosen ({})", fdt_strerror(chosen)));
  if (!p.bootargs.empty()) rc = fdt_setprop_string(f, chosen, "bootargs", p.bootargs.c_str());
  if (rc == 0 && p.initrd_start) {
    rc = fdt_setprop_u64(f, chosen, "linux,initrd-start", *p.initrd_start);
    if (rc == 0) rc = fdt_setprop_u64(f, chosen, "linux,initrd-end", p.initrd_end);
  }
  if (rc == 0) rc = fdt_pack(f);
  if (rc != 0) throw bad(fmt::format("cannot update /chosen ({})", fdt_strerror(rc)));
  out.resize(fdt_totalsize(f));
  return out;
}

uint64_t fdt_load_addr(uint64_t ram_base, uint64_t ram_size, uint64_t fdt_size) {
  uint64_t top = ram_base + ram_size;
  if (ram_base < k3GiB) top = std::min(top, k3GiB);
  if (top - ram_base < fdt_size) return ram_base;
  return std::max(ram_base, (top - fdt_size) & ~(k2MiB - 1));
}

// ---- Machine's part ---------------------------------------------------------

void Machine::build_fdt() {
  FdtParams p;
  p.num_harts = cfg_.smp;
  p.ram_base = ram_.base();
  p.ram_size = ram_.size();
  p.plic_size = Plic::window_size(cfg_.smp);
  p.bootargs = cfg_.append;
  if (initrd_end_ > initrd_start_) {
    p.initrd_start = initrd_start_;
    p.initrd_end = initrd_end_;
  }
  fdt_ = user_dtb_.empty() ? make_fdt(p) : patch_fdt(user_dtb_, cfg_.dtb, p);
}

}  // namespace machine

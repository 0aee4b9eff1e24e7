// The `coremu` command line (see options.h and docs/user-guide.md).
#include "cli/options.h"

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "machine/memmap.h"

namespace cli {

namespace {

using machine::ConfigError;

// User text quoted in a message: control characters escaped, and long text
// shortened, so a message always stays one readable line.
std::string shown(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (s.size() > kMax) out += "...";
  return out;
}

[[noreturn]] void fail(std::string_view opt, std::string_view what) {
  throw ConfigError(fmt::format("option '{}': {}", shown(opt), what));
}

// A non-empty run of decimal digits that fits in 64 bits.
std::optional<uint64_t> parse_uint(std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// QEMU's boolean property values.
bool parse_bool(std::string_view opt, std::string_view key, std::string_view value) {
  if (value == "on" || value == "yes" || value == "true") return true;
  if (value == "off" || value == "no" || value == "false") return false;
  fail(opt, fmt::format("'{}' takes on or off, not '{}'", shown(key), shown(value)));
}

// QEMU's size syntax: a decimal number, optionally with a fraction, and an
// optional suffix B, K, M, G, T, P or E (powers of 1024, either case). A
// number without suffix is in units of 2^default_shift bytes. nullopt if
// malformed or not representable in 64 bits.
std::optional<uint64_t> parse_size(std::string_view s, unsigned default_shift) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  auto whole = parse_uint(s.substr(0, i));
  if (!whole) return std::nullopt;
  uint64_t frac = 0, frac_scale = 1;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (i - start < 18) {  // later digits cannot change the result
        frac = frac * 10 + static_cast<uint64_t>(s[i] - '0');
        frac_scale *= 10;
      }
      ++i;
    }
    if (i == start) return std::nullopt;
  }
  unsigned shift = default_shift;
  if (i < s.size()) {
    static constexpr std::string_view kSuffixes = "BKMGTPE";
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    size_t k = kSuffixes.find(c);
    if (k == std::string_view::npos) return std::nullopt;
    shift = static_cast<unsigned>(k * 10);
    ++i;
  }
  if (i != s.size()) return std::nullopt;
  if (shift > 0 && (*whole >> (64 - shift)) != 0) return std::nullopt;
  uint64_t value = *whole << shift;
  auto frac_bytes = static_cast<uint64_t>((static_cast<unsigned __int128>(frac) << shift) / frac_scale);
  if (value + frac_bytes < value) return std::nullopt;
  return value + frac_bytes;
}

// QEMU's rule for ids: a letter, then letters, digits, '-', '.' or '_'.
bool well_formed_id(std::string_view id) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (id.empty() || !alpha(id[0])) return false;
  for (char c : id)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.' && c != '_') return false;
  return true;
}

// A QEMU option list "key=value,key=value" (",," is a literal comma). The
// first item may omit "key=" when the option has an implied key; any other
// item without '=' means key=on. Handlers take() the keys they know, then
// done() rejects whatever is left, naming it.
class KeyValues {
 public:
  KeyValues(std::string_view opt, std::string_view text, std::string_view implied_key) : opt_(opt) {
    std::vector<std::string> parts(1);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] != ',') {
        parts.back() += text[i];
      } else if (i + 1 < text.size() && text[i + 1] == ',') {
        parts.back() += ',';
        ++i;
      } else {
        parts.emplace_back();
      }
    }
    if (parts.size() > 1 && parts.back().empty()) parts.pop_back();  // "virt," is "virt"
    for (size_t n = 0; n < parts.size(); ++n) {
      const std::string& p = parts[n];
      if (p.empty()) fail(opt, text.empty() ? "empty argument" : fmt::format("empty item in '{}'", shown(text)));
      size_t eq = p.find('=');
      std::string key, value;
      if (eq == std::string::npos) {
        if (n == 0 && !implied_key.empty()) {
          key = implied_key;
          value = p;
        } else {
          key = p;
          value = "on";
        }
      } else {
        key = p.substr(0, eq);
        value = p.substr(eq + 1);
        if (key.empty()) fail(opt, fmt::format("'{}' has no parameter name", shown(p)));
      }
      for (const auto& item : items_)
        if (item.first == key) fail(opt, fmt::format("parameter '{}' is given twice", shown(key)));
      items_.emplace_back(std::move(key), std::move(value));
    }
    used_.assign(items_.size(), false);
  }

  // The value of key, if given; marks it as understood.
  std::optional<std::string> take(std::string_view key) {
    for (size_t i = 0; i < items_.size(); ++i)
      if (items_[i].first == key) {
        used_[i] = true;
        return items_[i].second;
      }
    return std::nullopt;
  }

  // Throws naming the first key nobody took ("unsupported <what> 'key'").
  void done(std::string_view what) const {
    for (size_t i = 0; i < items_.size(); ++i)
      if (!used_[i]) fail(opt_, fmt::format("unsupported {} '{}'", what, shown(items_[i].first)));
  }

 private:
  std::string opt_;
  std::vector<std::pair<std::string, std::string>> items_;
  std::vector<bool> used_;
};

constexpr std::string_view kMachineHelp =
    "Supported machines are:\n"
    "virt                 RISC-V VirtIO board, compatible with qemu-system-riscv64 -M virt (default)\n";
constexpr std::string_view kDeviceHelp =
    "Supported devices (-device):\n"
    "virtio-blk-device    virtio block device on a virtio-mmio transport; "
    "properties: drive=ID (required), bus=virtio-mmio-bus.N (N = 0..7), id=NAME\n";
constexpr std::string_view kCpuHelp =
    "Supported CPU models (-cpu):\n"
    "rv64                 RV64GC (IMAFDC, Zicsr, Zifencei), M/S/U modes, Sv39/Sv48\n"
    "max                  the same as rv64\n";
constexpr std::string_view kAccelHelp =
    "Accelerators supported in coremu:\n"
    "tcg                  (the only one: coremu is an emulator)\n"
    "  thread=multi         one host thread per hart\n"
    "  thread=single        one host thread runs every hart in turn\n"
    "  threads=N            a pool of N host threads runs the harts in turn\n"
    "  jit=on|off           translate hot blocks to x86-64 code (default on, on x86-64 hosts)\n"
    "                       or interpret every instruction\n"
    "  tb-size=MiB          the translation cache's size (default 256)\n";
constexpr std::string_view kLogHelp =
    "Log items (-d ITEM[,ITEM...], written to stderr or the -D file):\n"
    "in_asm               the guest instructions of each block when it is translated\n"
    "out_asm              the host code generated for each translated block\n"
    "jit                  the translator's statistics when the machine ends (blocks, code size, time)\n";

class Parser;
using Handler = void (Parser::*)(const std::string& opt, const std::string& arg);

struct OptionSpec {
  std::string_view name;   // without the dash
  std::string_view alias;  // another name, or empty
  std::string_view arg;    // what the argument looks like in --help, empty = no argument
  Handler handle;
  std::string_view help;   // one line for --help
};

class Parser {
 public:
  Options run(const std::vector<std::string>& args);

  void machine_opt(const std::string& opt, const std::string& arg);
  void smp(const std::string& opt, const std::string& arg);
  void memory(const std::string& opt, const std::string& arg);
  void bios(const std::string& opt, const std::string& arg) {
    o_.machine.bios = file_arg(opt, arg);
    bios_given_ = true;
  }
  void kernel(const std::string& opt, const std::string& arg) { o_.machine.kernel = file_arg(opt, arg); }
  void initrd(const std::string& opt, const std::string& arg) { o_.machine.initrd = file_arg(opt, arg); }
  void append(const std::string&, const std::string& arg) { o_.machine.append = arg; }
  void dtb(const std::string& opt, const std::string& arg) { o_.machine.dtb = file_arg(opt, arg); }
  void nographic(const std::string&, const std::string&) { o_.nographic = true; }
  void display(const std::string& opt, const std::string& arg);
  void serial(const std::string& opt, const std::string& arg);
  void monitor(const std::string& opt, const std::string& arg);
  void drive(const std::string& opt, const std::string& arg);
  void device(const std::string& opt, const std::string& arg);
  void global(const std::string& opt, const std::string& arg);
  void no_reboot(const std::string&, const std::string&) { o_.machine.no_reboot = true; }
  void name(const std::string&, const std::string&) {}
  void cpu(const std::string& opt, const std::string& arg);
  void accel(const std::string& opt, const std::string& arg);
  void enable_kvm(const std::string& opt, const std::string&) {
    fail(opt, "KVM is not supported: coremu is an emulator (drop -enable-kvm)");
  }
  void gdb_default(const std::string&, const std::string&) { o_.gdb = "tcp:127.0.0.1:1234"; }
  void gdb_wait(const std::string&, const std::string&) { o_.gdb_wait = true; }
  void gdb(const std::string& opt, const std::string& arg);
  void repl(const std::string&, const std::string&) { o_.repl = true; }
  void symbols(const std::string& opt, const std::string& arg) { o_.symbols.push_back(file_arg(opt, arg)); }
  void deterministic(const std::string&, const std::string&) { o_.deterministic = true; }
  void log_items(const std::string& opt, const std::string& arg) {
    if (arg == "help" || arg == "?") return show(kLogHelp);
    size_t start = 0;
    while (start <= arg.size()) {
      size_t comma = arg.find(',', start);
      std::string item = arg.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (item != "in_asm" && item != "out_asm" && item != "jit")
        fail(opt, fmt::format("unknown log item '{}' (coremu logs in_asm, out_asm and jit; -d help lists them)",
                              shown(item)));
      o_.machine.log_items.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  void log_file(const std::string& opt, const std::string& arg) { o_.machine.log_file = file_arg(opt, arg); }
  void perfmap(const std::string&, const std::string&) { o_.machine.perfmap = true; }
  void quiet(const std::string&, const std::string&) { o_.quiet = true; }
  void clock(const std::string& opt, const std::string& arg) {
    if (arg != "host" && arg != "scaled")
      fail(opt, fmt::format("clock '{}' is not valid (host or scaled)", shown(arg)));
    o_.clock = arg;
  }
  void quantum(const std::string& opt, const std::string& arg) {
    auto n = parse_uint(arg);
    if (!n || *n == 0 || *n > (1ull << 40)) fail(opt, "needs a number of steps from 1 to 2^40");
    o_.quantum = *n;
    o_.deterministic = true;
  }
  void chaos(const std::string& opt, const std::string& arg) {
    auto n = parse_uint(arg);
    if (!n) fail(opt, "needs a seed: a decimal number");
    o_.chaos = true;
    o_.chaos_seed = *n;
    o_.deterministic = true;
  }
  // What an -accel argument sets (for replay, which takes only jit=).
  Options accel_options(const std::string& opt, const std::string& arg) {
    accel(opt, arg);
    return o_;
  }
  // The normalised address of a -gdb argument (Options::gdb).
  std::string gdb_address(const std::string& opt, const std::string& arg) {
    gdb(opt, arg);
    return o_.gdb;
  }
  // The normalised -serial argument (MachineConfig::serial).
  std::string serial_device(const std::string& opt, const std::string& arg) {
    serial(opt, arg);
    return o_.machine.serial;
  }
  void help(const std::string&, const std::string&) { show(help_text()); }
  void version(const std::string&, const std::string&) {
    o_.version = true;
    stop_ = true;
  }

 private:
  struct DriveState {
    bool attached = false;  // if=virtio, or named by a -device already
  };
  struct BlkRequest {
    std::string opt;  // the option text, for messages
    std::string drive;
    int slot;
  };

  static std::string file_arg(const std::string& opt, const std::string& arg) {
    if (arg.empty()) fail(opt, "needs a file name, not an empty argument");
    return arg;
  }
  void show(std::string_view text) {
    o_.help = true;
    o_.help_output = text;
    stop_ = true;
  }
  void finish();

  Options o_;
  bool stop_ = false;          // help or version seen: stop parsing
  bool serial_given_ = false;
  bool bios_given_ = false;
  std::map<std::string, DriveState> drives_;
  std::map<std::string, unsigned> auto_id_count_;  // interface -> drives given an automatic id
  std::vector<BlkRequest> blk_requests_;           // from -device, checked once every -drive is known
};

constexpr OptionSpec kOptions[] = {
    {"machine", "M", "virt[,dumpdtb=FILE]", &Parser::machine_opt,
     "the board (only virt); dumpdtb=FILE writes its device tree and exits; 'help' lists boards"},
    {"smp", "", "[cpus=]N[,maxcpus=N,sockets=1,cores=N,threads=N]", &Parser::smp, "number of harts, 1 to 1024"},
    {"m", "", "[size=]SIZE", &Parser::memory, "guest RAM: MiB, or with a suffix K, M, G, T (default 128M)"},
    {"bios", "", "none|default|FILE", &Parser::bios, "firmware: default = coremu's built-in SBI (the default with -kernel), none, or an ELF/raw file"},
    {"kernel", "", "FILE", &Parser::kernel, "kernel, ELF or raw image"},
    {"initrd", "", "FILE", &Parser::initrd, "initial ramdisk"},
    {"append", "", "STRING", &Parser::append, "kernel command line (/chosen/bootargs)"},
    {"dtb", "", "FILE", &Parser::dtb, "use this device tree blob instead of the generated one"},
    {"nographic", "", "", &Parser::nographic, "no display; the serial port is on stdio (Ctrl-A x quits)"},
    {"display", "", "none", &Parser::display, "accepted for compatibility (coremu has no display)"},
    {"serial", "", "stdio|mon:stdio|file:PATH|null|none", &Parser::serial, "where the UART goes (default stdio)"},
    {"monitor", "", "none", &Parser::monitor, "accepted for compatibility (coremu has no QEMU monitor)"},
    {"drive", "", "file=PATH[,if=none|virtio][,id=ID][,format=raw][,readonly=on][,snapshot=on][,cache=MODE]",
     &Parser::drive, "a disk image (locked while in use); if=virtio also adds a virtio-blk device"},
    {"device", "", "virtio-blk-device,drive=ID[,bus=virtio-mmio-bus.N]", &Parser::device,
     "a virtio block device for -drive ID; 'help' lists devices"},
    {"global", "", "virtio-mmio.force-legacy=false", &Parser::global,
     "accepted (coremu's virtio is always the modern 1.x interface)"},
    {"no-reboot", "", "", &Parser::no_reboot, "exit instead of rebooting when the guest asks for a reset"},
    {"name", "", "NAME", &Parser::name, "accepted and ignored"},
    {"cpu", "", "rv64|max", &Parser::cpu, "CPU model (both are RV64GC); 'help' lists them"},
    {"accel", "", "tcg[,thread=single|multi][,threads=N][,jit=on|off][,tb-size=MiB]", &Parser::accel,
     "host threads: multi = one per hart, single = one for all, threads=N = a pool of N; jit=off interprets"},
    {"d", "", "in_asm,out_asm,jit|help", &Parser::log_items,
     "log each translated block's guest and host code; jit: the translator's statistics at the end"},
    {"D", "", "FILE", &Parser::log_file, "write the -d log to FILE instead of stderr"},
    {"perfmap", "", "", &Parser::perfmap, "write /tmp/perf-PID.map so that Linux perf names translated code"},
    {"enable-kvm", "", "", &Parser::enable_kvm, "rejected: coremu is an emulator"},
    {"s", "", "", &Parser::gdb_default, "GDB server on tcp:127.0.0.1:1234 (short for -gdb tcp::1234)"},
    {"S", "", "", &Parser::gdb_wait, "do not start the harts until the debugger continues them"},
    {"gdb", "", "tcp:[HOST]:PORT|unix:PATH|PORT|none", &Parser::gdb, "GDB server address"},
    {"repl", "", "", &Parser::repl, "start paused and read debugger commands from stdin (see the user guide)"},
    {"symbols", "", "FILE", &Parser::symbols,
     "ELF whose symbols the REPL, gdb monitor commands and --events use (e.g. vmlinux with a raw Image); not loaded"},
    {"clock", "", "scaled|host", &Parser::clock,
     "guest time: scaled (default) = host time slowed while runnable harts outnumber host cores; host = host time"},
    {"deterministic", "", "", &Parser::deterministic,
     "run every hart on one host thread in slices, time from instruction counts: the same run every time"},
    {"quantum", "", "N", &Parser::quantum, "deterministic mode: steps a hart runs per slice (default 10000)"},
    {"chaos", "", "SEED", &Parser::chaos, "deterministic mode: vary slices and hart order from SEED, to expose races"},
    {"q", "quiet", "", &Parser::quiet, "deterministic mode, record, replay: no progress line on stderr"},
    {"help", "h", "", &Parser::help, "print this help and exit"},
    {"version", "", "", &Parser::version, "print the version and exit"},
};

const OptionSpec* find_option(std::string_view name) {
  for (const OptionSpec& spec : kOptions)
    if ((name == spec.name || (!spec.alias.empty() && name == spec.alias))) return &spec;
  return nullptr;
}

Options Parser::run(const std::vector<std::string>& args) {
  if (args.empty()) {
    o_.demo = true;
    return o_;
  }
  for (size_t i = 0; i < args.size() && !stop_; ++i) {
    const std::string& word = args[i];
    if (word.empty()) throw ConfigError("unexpected empty argument (see coremu --help)");
    if (word[0] != '-' || word.size() == 1)
      throw ConfigError(fmt::format("unexpected argument '{}': coremu takes no disk image without an option; "
                                    "use -drive file={},format=raw,if=virtio",
                                    shown(word), shown(word)));
    // QEMU accepts every option with one dash or two.
    std::string_view name = std::string_view(word).substr(word.size() > 2 && word[1] == '-' ? 2 : 1);
    const OptionSpec* spec = find_option(name);
    if (!spec) throw ConfigError(fmt::format("unsupported option '{}' (see coremu --help)", shown(word)));
    static const std::string kNoArg;
    const std::string* arg = &kNoArg;
    if (!spec->arg.empty()) {
      if (i + 1 >= args.size()) throw ConfigError(fmt::format("option '{}' needs an argument", shown(word)));
      arg = &args[++i];
    }
    (this->*(spec->handle))(word, *arg);
  }
  if (stop_) return o_;
  finish();
  return o_;
}

void Parser::finish() {
  machine::MachineConfig& m = o_.machine;
  std::set<int> slots;
  for (const BlkRequest& b : blk_requests_) {
    auto it = drives_.find(b.drive);
    if (it == drives_.end())
      fail(b.opt, fmt::format("no -drive with id '{}' (add -drive file=PATH,if=none,format=raw,id={})", shown(b.drive),
                              shown(b.drive)));
    if (it->second.attached) fail(b.opt, fmt::format("drive '{}' is already in use by another device", shown(b.drive)));
    it->second.attached = true;
    if (b.slot >= 0 && !slots.insert(b.slot).second)
      fail(b.opt, fmt::format("bus virtio-mmio-bus.{} is already in use by another device", b.slot));
    m.blk_devices.push_back({b.drive, b.slot});
  }
  if (m.blk_devices.size() > machine::memmap::kVirtioCount)
    throw ConfigError(fmt::format("too many virtio block devices ({}): the virt board has {} virtio-mmio transports",
                                  m.blk_devices.size(), machine::memmap::kVirtioCount));
  // As QEMU, which loads its bundled OpenSBI: a kernel without -bios runs
  // on the default firmware, coremu's built-in SBI.
  if (!bios_given_ && !m.kernel.empty()) m.bios = "default";
  if (o_.deterministic && !o_.clock.empty())
    throw ConfigError("--clock is for the parallel mode: deterministic time comes from instruction counts");
  if (m.kernel.empty() && m.bios == "none" && m.dumpdtb.empty())
    throw ConfigError("nothing to run: give -kernel FILE and/or -bios FILE (or no arguments at all for the demo)");
}

void Parser::machine_opt(const std::string& opt, const std::string& arg) {
  KeyValues kv(opt, arg, "type");
  if (auto type = kv.take("type")) {
    if (*type == "help" || *type == "?") return show(kMachineHelp);
    if (*type != "virt")
      fail(opt, fmt::format("unsupported machine type '{}' (only 'virt'; -machine help lists it)", shown(*type)));
  }
  if (auto v = kv.take("dumpdtb")) o_.machine.dumpdtb = file_arg(opt, *v);
  // Properties whose only accepted value is the one coremu implements.
  auto only = [&](std::string_view key, std::initializer_list<std::string_view> ok, std::string_view why) {
    if (auto v = kv.take(key)) {
      for (std::string_view good : ok)
        if (*v == good) return;
      fail(opt, fmt::format("{}={} is not supported ({})", key, shown(*v), why));
    }
  };
  only("aclint", {"off", "no", "false"}, "coremu's virt has a SiFive CLINT, not an ACLINT");
  only("aia", {"none"}, "coremu's virt has a PLIC, not an AIA");
  only("acpi", {"off", "no", "false"}, "the device tree describes the board");
  only("accel", {"tcg"}, "coremu is an emulator");
  kv.done("machine property");
}

void Parser::smp(const std::string& opt, const std::string& arg) {
  constexpr unsigned kMax = machine::memmap::kMaxHarts;
  KeyValues kv(opt, arg, "cpus");
  // 0 = not given. Every value is 1..kMax, so products of them fit in 64 bits.
  auto get = [&](std::string_view key) -> uint64_t {
    auto v = kv.take(key);
    if (!v) return 0;
    auto n = parse_uint(*v);
    if (!n || *n == 0) fail(opt, fmt::format("{}={} is not a positive number", key, shown(*v)));
    if (*n > kMax) fail(opt, fmt::format("{}={} is more than coremu's limit of {} harts", key, *n, kMax));
    return *n;
  };
  uint64_t cpus = get("cpus"), maxcpus = get("maxcpus"), sockets = get("sockets"), dies = get("dies"),
           clusters = get("clusters"), cores = get("cores"), threads = get("threads");
  kv.done("parameter");
  if (dies > 1 || clusters > 1) fail(opt, "dies and clusters are not supported on the virt board");
  dies = clusters = 1;
  // QEMU's rules for the values left out: with neither cpus nor maxcpus, the
  // missing levels are 1; otherwise cores are derived first, then sockets,
  // then threads, so that the topology holds maxcpus harts.
  if (cpus == 0 && maxcpus == 0) {
    if (sockets == 0) sockets = 1;
    if (cores == 0) cores = 1;
    if (threads == 0) threads = 1;
  } else {
    if (maxcpus == 0) maxcpus = cpus;
    if (cores == 0) {
      if (sockets == 0) sockets = 1;
      if (threads == 0) threads = 1;
      cores = maxcpus / (sockets * threads);
    } else if (sockets == 0) {
      if (threads == 0) threads = 1;
      sockets = maxcpus / (cores * threads);
    }
    if (threads == 0) threads = maxcpus / (sockets * cores);
  }
  const uint64_t product = sockets * cores * threads;
  if (maxcpus == 0) maxcpus = product;
  if (cpus == 0) cpus = maxcpus;
  if (product != maxcpus)
    fail(opt, fmt::format("invalid CPU topology: sockets ({}) * cores ({}) * threads ({}) != maxcpus ({})", sockets,
                          cores, threads, maxcpus));
  if (cpus > maxcpus) fail(opt, fmt::format("cpus ({}) is more than maxcpus ({})", cpus, maxcpus));
  if (maxcpus > kMax) fail(opt, fmt::format("{} harts is more than coremu's limit of {}", maxcpus, kMax));
  if (sockets != 1)
    fail(opt, fmt::format("sockets={} is not supported: coremu's virt board has one socket (one CLINT and PLIC)",
                          sockets));
  o_.machine.smp = static_cast<unsigned>(cpus);
}

void Parser::memory(const std::string& opt, const std::string& arg) {
  KeyValues kv(opt, arg, "size");
  auto text = kv.take("size");
  if (kv.take("slots") || kv.take("maxmem")) fail(opt, "memory hotplug (slots=, maxmem=) is not supported");
  kv.done("parameter");
  if (!text) fail(opt, "needs a size, e.g. -m 512M");
  auto size = parse_size(*text, 20);
  if (!size)
    fail(opt, fmt::format("'{}' is not a size (a number of MiB, or a number with suffix K, M, G or T)", shown(*text)));
  if (*size == 0) fail(opt, "the RAM size must not be zero");
  constexpr uint64_t kAlign = 8192;  // QEMU rounds -m up to 8 KiB
  if (*size > UINT64_MAX - (kAlign - 1)) fail(opt, fmt::format("'{}' is too large", shown(*text)));
  o_.machine.ram_size = (*size + kAlign - 1) & ~(kAlign - 1);
}

void Parser::display(const std::string& opt, const std::string& arg) {
  if (arg != "none")
    fail(opt, fmt::format("unsupported display '{}' (coremu has no display: use -display none or -nographic)",
                          shown(arg)));
}

void Parser::serial(const std::string& opt, const std::string& arg) {
  if (serial_given_) fail(opt, "given twice: the virt board has one serial port");
  serial_given_ = true;
  std::string& s = o_.machine.serial;
  if (arg == "stdio" || arg == "mon:stdio") {
    s = "stdio";
  } else if (arg == "none" || arg == "null") {
    s = "none";
  } else if (arg.starts_with("file:")) {
    if (arg.size() == 5) fail(opt, "file: needs a path, e.g. -serial file:console.log");
    s = arg;
  } else {
    fail(opt, fmt::format("unsupported serial device '{}' (supported: stdio, mon:stdio, file:PATH, null, none)",
                          shown(arg)));
  }
}

void Parser::monitor(const std::string& opt, const std::string& arg) {
  if (arg != "none")
    fail(opt, fmt::format("unsupported monitor '{}' (coremu has no QEMU monitor; only -monitor none is accepted)",
                          shown(arg)));
}

void Parser::drive(const std::string& opt, const std::string& arg) {
  KeyValues kv(opt, arg, "");
  auto file = kv.take("file"), iface_given = kv.take("if"), format = kv.take("format"), ro = kv.take("readonly"),
       cache = kv.take("cache"), media = kv.take("media"), id = kv.take("id"), snap = kv.take("snapshot");
  kv.done("drive parameter");
  machine::DriveConfig d;
  if (!file || file->empty()) fail(opt, "needs file=PATH");
  d.file = *file;
  std::string iface = iface_given.value_or("none");
  if (iface != "none" && iface != "virtio")
    fail(opt, fmt::format("interface if={} is not supported (use if=virtio, or if=none with -device "
                          "virtio-blk-device,drive=ID)",
                          shown(iface)));
  if (format && *format != "raw")
    fail(opt, fmt::format("format={} is not supported (only format=raw)", shown(*format)));
  if (ro) d.readonly = parse_bool(opt, "readonly", *ro);
  if (snap) d.snapshot = parse_bool(opt, "snapshot", *snap);
  if (cache) {
    static constexpr std::array<std::string_view, 5> kModes{"writeback", "writethrough", "none", "directsync",
                                                            "unsafe"};
    bool ok = false;
    for (auto m : kModes) ok |= *cache == m;
    if (!ok) fail(opt, fmt::format("cache={} is not a cache mode", shown(*cache)));
    if (*cache == "writethrough" || *cache == "directsync")
      d.cache = machine::DriveConfig::Cache::kWritethrough;
    else if (*cache == "unsafe")
      d.cache = machine::DriveConfig::Cache::kUnsafe;
  }
  if (media && *media != "disk") fail(opt, fmt::format("media={} is not supported (only media=disk)", shown(*media)));
  if (id) {
    if (!well_formed_id(*id))
      fail(opt, fmt::format("id '{}' is not a valid id (a letter, then letters, digits, '-', '.' or '_')", shown(*id)));
    d.id = *id;
  } else {
    // QEMU names anonymous drives after their interface: none0, virtio0, ...
    d.id = fmt::format("{}{}", iface, auto_id_count_[iface]++);
  }
  if (drives_.count(d.id)) fail(opt, fmt::format("duplicate drive id '{}'", shown(d.id)));
  DriveState& state = drives_[d.id];
  if (iface == "virtio") {
    state.attached = true;
    o_.machine.blk_devices.push_back({d.id, -1});
  }
  o_.machine.drives.push_back(std::move(d));
}

void Parser::device(const std::string& opt, const std::string& arg) {
  KeyValues kv(opt, arg, "driver");
  auto driver = kv.take("driver");
  if (!driver) fail(opt, "needs a device name, e.g. -device virtio-blk-device,drive=ID");
  if (*driver == "help" || *driver == "?") return show(kDeviceHelp);
  if (*driver != "virtio-blk-device")
    fail(opt, fmt::format("unsupported device '{}' (supported: virtio-blk-device; -device help lists them)",
                          shown(*driver)));
  BlkRequest b{opt, "", -1};
  auto drive = kv.take("drive");
  if (!drive || drive->empty()) fail(opt, "virtio-blk-device needs drive=ID");
  b.drive = *drive;
  if (auto bus = kv.take("bus")) {
    constexpr std::string_view kPrefix = "virtio-mmio-bus.";
    std::optional<uint64_t> n;
    if (bus->starts_with(kPrefix)) n = parse_uint(std::string_view(*bus).substr(kPrefix.size()));
    if (!n || *n >= machine::memmap::kVirtioCount)
      fail(opt, fmt::format("bus '{}' not found (the virt board has virtio-mmio-bus.0 to virtio-mmio-bus.{})",
                            shown(*bus), machine::memmap::kVirtioCount - 1));
    b.slot = static_cast<int>(*n);
  }
  if (auto id = kv.take("id")) {
    if (!well_formed_id(*id)) fail(opt, fmt::format("id '{}' is not a valid id", shown(*id)));
  }
  kv.done("virtio-blk-device property");
  blk_requests_.push_back(std::move(b));
}

void Parser::global(const std::string& opt, const std::string& arg) {
  std::string driver, property, value;
  if (arg.starts_with("driver=")) {  // the long form: driver=D,property=P,value=V
    KeyValues kv(opt, arg, "");
    driver = kv.take("driver").value_or("");
    property = kv.take("property").value_or("");
    value = kv.take("value").value_or("");
    kv.done("parameter");
  } else {
    size_t dot = arg.find('.'), eq = arg.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq)
      fail(opt, fmt::format("'{}' is not of the form DRIVER.PROPERTY=VALUE", shown(arg)));
    driver = arg.substr(0, dot);
    property = arg.substr(dot + 1, eq - dot - 1);
    value = arg.substr(eq + 1);
  }
  if (driver != "virtio-mmio" || property != "force-legacy")
    fail(opt, fmt::format("unsupported setting '{}.{}' (only virtio-mmio.force-legacy=false)", shown(driver),
                          shown(property)));
  if (parse_bool(opt, "virtio-mmio.force-legacy", value))
    fail(opt, "legacy virtio is not supported (coremu implements virtio-mmio version 2 only)");
}

void Parser::cpu(const std::string& opt, const std::string& arg) {
  std::string_view model = arg;
  size_t comma = model.find(',');
  if (comma != std::string_view::npos)
    fail(opt, fmt::format("CPU properties are not supported ('{}')", shown(model.substr(comma + 1))));
  if (model == "help" || model == "?") return show(kCpuHelp);
  if (model != "rv64" && model != "max")
    fail(opt, fmt::format("unsupported CPU model '{}' (supported: rv64, max)", shown(model)));
}

void Parser::accel(const std::string& opt, const std::string& arg) {
  KeyValues kv(opt, arg, "accel");
  auto name = kv.take("accel");
  if (!name) fail(opt, "needs an accelerator name (tcg)");
  if (*name == "help" || *name == "?") return show(kAccelHelp);
  if (*name != "tcg") fail(opt, fmt::format("accelerator '{}' is not supported (only tcg: coremu is an emulator)",
                                            shown(*name)));
  if (auto thread = kv.take("thread")) {
    if (*thread != "single" && *thread != "multi")
      fail(opt, fmt::format("thread={} is not valid (single or multi)", shown(*thread)));
    o_.accel_threads = *thread;
  }
  if (auto n = kv.take("threads")) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (ec != std::errc() || p != n->data() + n->size() || v == 0 || v > 1024)
      fail(opt, fmt::format("threads={} is not valid (a pool of 1 to 1024 host threads)", shown(*n)));
    if (o_.accel_threads == "multi" || o_.accel_threads == "single")
      fail(opt, "threads=N sets a pool of host threads: it cannot be combined with thread=single|multi");
    o_.accel_pool = v;
  }
  if (auto j = kv.take("jit")) {
    if (*j != "on" && *j != "off") fail(opt, fmt::format("jit={} is not valid (on or off)", shown(*j)));
    o_.machine.jit = *j == "on";
  }
  if (auto t = kv.take("tb-size")) {
    auto mib = parse_uint(*t);
    if (!mib || *mib < 1 || *mib > 4096)
      fail(opt, fmt::format("tb-size={} is not valid (MiB of translated code, 1 to 4096)", shown(*t)));
    o_.machine.tb_size = *mib << 20;
  }
  kv.done("tcg property");
}

void Parser::gdb(const std::string& opt, const std::string& arg) {
  if (arg == "none") {
    o_.gdb.clear();
    return;
  }
  auto port_of = [&](std::string_view text) {
    auto port = parse_uint(text);
    if (!port || *port == 0 || *port > 65535)
      fail(opt, fmt::format("'{}' is not a TCP port (1 to 65535)", shown(text)));
    return *port;
  };
  if (!arg.empty() && arg.find_first_not_of("0123456789") == std::string::npos) {
    o_.gdb = fmt::format("tcp:127.0.0.1:{}", port_of(arg));  // QEMU: a bare number is tcp::PORT
    return;
  }
  std::string_view dev = arg;
  size_t comma = dev.find(',');
  if (comma != std::string_view::npos) {
    // Character-device flags QEMU's gdbstub implies anyway.
    std::string_view flags = dev.substr(comma + 1);
    dev = dev.substr(0, comma);
    while (true) {
      size_t next = flags.find(',');
      std::string_view f = flags.substr(0, next);
      if (f != "server" && f != "nowait" && f != "server=on" && f != "wait=off")
        fail(opt, fmt::format("unsupported flag '{}' (coremu's GDB server always listens without waiting)",
                              shown(f)));
      if (next == std::string_view::npos) break;
      flags = flags.substr(next + 1);
    }
  }
  if (dev.starts_with("tcp:")) {
    std::string_view rest = dev.substr(4);
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos) fail(opt, fmt::format("'{}' is not tcp:[HOST]:PORT", shown(dev)));
    std::string_view host = rest.substr(0, colon);
    uint64_t port = port_of(rest.substr(colon + 1));
    bool ok;
    if (host.starts_with('[')) {  // [IPv6]
      ok = host.size() > 2 && host.ends_with(']') &&
           host.substr(1, host.size() - 2).find_first_not_of("0123456789abcdefABCDEF:.") == std::string_view::npos;
    } else {
      ok = host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") ==
           std::string_view::npos;
    }
    if (!ok) fail(opt, fmt::format("'{}' is not a host name or address", shown(host)));
    // An empty host means all interfaces in QEMU; coremu listens on localhost only.
    o_.gdb = fmt::format("tcp:{}:{}", host.empty() ? "127.0.0.1" : host, port);
  } else if (dev.starts_with("unix:")) {
    if (dev.size() == 5) fail(opt, "unix: needs a socket path");
    o_.gdb = std::string(dev);
  } else {
    fail(opt, fmt::format("unsupported GDB device '{}' (use tcp:[HOST]:PORT, unix:PATH, a port number or none)",
                          shown(dev)));
  }
}

// What a recording keeps of each option (see recorded_args()).
enum class Kept : uint8_t { kShape, kHost };

// The options that shape the machine a guest sees; every other option is a
// host-side choice (where the console goes, debuggers, threads, symbols),
// which a replay takes from its own command line, never from a log.
Kept kept(std::string_view name) {
  static constexpr std::string_view kShapeOptions[] = {"machine", "smp",    "m",         "bios",          "kernel",
                                                       "initrd",  "append", "dtb",       "drive",         "device",
                                                       "global",  "cpu",    "no-reboot", "deterministic", "quantum",
                                                       "chaos"};
  for (std::string_view s : kShapeOptions)
    if (name == s) return Kept::kShape;
  return Kept::kHost;
}

// Splits args into options, each with its argument (if it takes one):
// {spec, word, argument}. The same errors as Parser::run for unknown
// options and missing arguments.
struct Word {
  const OptionSpec* spec;
  std::string word, arg;
};
std::vector<Word> split(const std::vector<std::string>& args) {
  std::vector<Word> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.size() < 2 || word[0] != '-')
      throw ConfigError(fmt::format("unexpected argument '{}'", shown(word)));
    std::string_view name = std::string_view(word).substr(word.size() > 2 && word[1] == '-' ? 2 : 1);
    const OptionSpec* spec = find_option(name);
    if (!spec) throw ConfigError(fmt::format("unsupported option '{}'", shown(word)));
    Word w{spec, word, ""};
    if (!spec->arg.empty()) {
      if (i + 1 >= args.size()) throw ConfigError(fmt::format("option '{}' needs an argument", shown(word)));
      w.arg = args[++i];
    }
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace

std::vector<std::string> recorded_args(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const Word& w : split(args)) {
    if (kept(w.spec->name) != Kept::kShape) continue;
    out.push_back(w.word);
    if (!w.spec->arg.empty()) out.push_back(w.arg);
  }
  return out;
}

Options parse_recorded(const std::vector<std::string>& args) {
  for (const Word& w : split(args)) {
    std::string shown_opt = w.spec->arg.empty() ? w.word : w.word + " " + w.arg;
    if (kept(w.spec->name) != Kept::kShape)
      throw ConfigError(fmt::format("its options hold '{}', which is not part of the machine: a replay takes host-side "
                                    "choices (-serial, -gdb, --repl, files to write) from its own command line only",
                                    shown(shown_opt)));
  }
  Options o = parse_options(args);
  if (o.help || o.version) throw ConfigError("its options describe no machine to replay");
  if (!o.machine.dumpdtb.empty())
    throw ConfigError(fmt::format("its options hold '-machine dumpdtb={}', which writes a host file: refused",
                                  shown(o.machine.dumpdtb)));
  return o;
}

Options parse_options(const std::vector<std::string>& args) {
  Parser p;
  return p.run(args);
}

Command parse_command(const std::vector<std::string>& args) {
  Command c;
  if (args.empty() || (args[0] != "record" && args[0] != "replay")) {
    c.machine_args = args;
    return c;
  }
  auto value = [&](size_t& i, const std::string& opt) -> const std::string& {
    if (i + 1 >= args.size()) throw ConfigError(fmt::format("{}: option '{}' needs an argument", args[0], shown(opt)));
    return args[++i];
  };
  auto is = [](const std::string& w, std::string_view name) {
    return w == fmt::format("-{}", name) || w == fmt::format("--{}", name);
  };
  if (args[0] == "record") {
    c.kind = Command::kRecord;
    for (size_t i = 1; i < args.size(); ++i) {
      if (is(args[i], "o")) {
        c.log = value(i, args[i]);
        if (c.log.empty()) throw ConfigError("record: -o needs a file name");
      } else if (is(args[i], "q") || is(args[i], "quiet")) {
        c.quiet = true;  // how the recording looks, not what it records: not in the log
      } else {
        c.machine_args.push_back(args[i]);
      }
    }
    if (c.log.empty()) throw ConfigError("record: give the log file with -o FILE (coremu record -o FILE [options])");
    return c;
  }
  c.kind = Command::kReplay;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& w = args[i];
    if (is(w, "repl")) {
      c.repl = true;
    } else if (is(w, "q") || is(w, "quiet")) {
      c.quiet = true;
    } else if (is(w, "s")) {
      c.gdb = "tcp:127.0.0.1:1234";
    } else if (is(w, "S")) {
      c.gdb_wait = true;
    } else if (is(w, "gdb")) {
      Parser p;
      c.gdb = p.gdb_address(w, value(i, w));
    } else if (is(w, "serial")) {
      Parser p;
      c.serial = p.serial_device(w, value(i, w));
    } else if (is(w, "nographic")) {
      // The console is on stdio unless -serial says otherwise.
    } else if (is(w, "to")) {
      auto n = parse_uint(value(i, w));
      if (!n) throw ConfigError(fmt::format("replay: --to needs a position (a decimal number), not '{}'", shown(args[i])));
      c.has_to = true;
      c.to = *n;
    } else if (is(w, "events")) {
      c.events = value(i, w);
      if (c.events.empty()) throw ConfigError("replay: --events needs a file name");
    } else if (is(w, "symbols")) {
      c.symbols.push_back(value(i, w));
      if (c.symbols.back().empty()) throw ConfigError("replay: --symbols needs a file name");
    } else if (is(w, "watch")) {
      c.watch.push_back(value(i, w));
      if (c.watch.back().empty()) throw ConfigError("replay: --watch needs SYMBOL or ADDR[:LEN]");
    } else if (is(w, "accel")) {
      // Only the executor: a recording replays the same with either.
      Parser p;
      Options a = p.accel_options(w, value(i, w));
      if (a.help) throw ConfigError("replay: -accel takes only tcg,jit=on|off");
      if (a.accel_pool || !a.accel_threads.empty() || a.machine.tb_size)
        throw ConfigError("replay: -accel takes only tcg,jit=on|off (a replay runs every hart on one thread)");
      c.jit = a.machine.jit ? 1 : 0;
    } else if (!w.empty() && w[0] != '-' && c.log.empty()) {
      c.log = w;
    } else {
      throw ConfigError(fmt::format("replay: unexpected '{}' (the machine options come from the log; "
                                    "replay takes FILE, --repl, -s, -S, -gdb DEV, -serial DEV, -nographic, --to POS, "
                                    "--symbols ELF, --events FILE, --watch SYM[:LEN], -accel tcg,jit=on|off, -q)",
                                    shown(w)));
    }
  }
  if (c.log.empty()) throw ConfigError("replay: give the log file (coremu replay FILE [options])");
  if (c.gdb_wait && c.gdb.empty()) throw ConfigError("replay: -S waits for a debugger: add -s or -gdb DEV");
  if (c.repl && !c.gdb.empty()) throw ConfigError("replay: --repl and a GDB server cannot be used together");
  if (!c.events.empty() && (c.repl || !c.gdb.empty()))
    throw ConfigError("replay: --events writes the timeline of a whole replay; with --repl use its `trace` commands");
  if (!c.watch.empty() && c.events.empty()) throw ConfigError("replay: --watch goes with --events OUT.json");
  return c;
}

std::string help_text() {
  std::string out =
      "usage: coremu [options]\n"
      "       coremu record -o FILE [options]        record a deterministic run\n"
      "       coremu replay FILE [--repl|-s|-gdb DEV] [-S] [-serial DEV] [--to POS] [--symbols ELF] [-q]\n"
      "                          [--events OUT.json [--watch SYM[:LEN]]]   replay (and debug) a recording\n"
      "A parallel RISC-V (RV64GC) emulator of QEMU's virt board; options follow qemu-system-riscv64.\n"
      "Without arguments it runs the bundled demo guest. Options take one dash or two.\n\n";
  for (const OptionSpec& spec : kOptions) {
    std::string left = fmt::format("-{}", spec.name);
    if (!spec.alias.empty()) left += fmt::format(", -{}", spec.alias);
    if (!spec.arg.empty()) left += fmt::format(" {}", spec.arg);
    // Each line starts with the option, as in QEMU's -help: scripts such as
    // xv6-riscv's Makefile grep for '^-gdb' to learn the syntax to use.
    if (left.size() < 34)
      out += fmt::format("{:<34}{}\n", left, spec.help);
    else
      out += fmt::format("{}  {}\n", left, spec.help);
  }
  out += "\nSee docs/user-guide.md for examples and the differences from QEMU.\n";
  return out;
}

}  // namespace cli

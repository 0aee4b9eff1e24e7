// Tests of the coremu command line (src/cli/options.cpp).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cli/options.h"

namespace {

using Args = std::vector<std::string>;

cli::Options parse(Args args) { return cli::parse_options(args); }

// Parses args with "-kernel k" appended (so there is something to run).
cli::Options parse_k(Args args) {
  args.push_back("-kernel");
  args.push_back("k");
  return cli::parse_options(args);
}

// The ConfigError message for args, or "<no error>" if they parse.
std::string error_of(const Args& args) {
  try {
    cli::parse_options(args);
  } catch (const machine::ConfigError& e) {
    return e.what();
  }
  return "<no error>";
}
std::string error_k(Args args) {
  args.push_back("-kernel");
  args.push_back("k");
  return error_of(args);
}

#define EXPECT_CONTAINS(haystack, needle) EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(Options, NoArgumentsRunsTheDemo) {
  cli::Options o = parse({});
  EXPECT_TRUE(o.demo);
  EXPECT_FALSE(o.help);
  EXPECT_EQ(o.machine.smp, 1u);
}

TEST(Options, Defaults) {
  cli::Options o = parse({"-kernel", "k.elf"});
  EXPECT_FALSE(o.demo);
  EXPECT_EQ(o.machine.kernel, "k.elf");
  EXPECT_EQ(o.machine.bios, "default");  // a kernel without -bios: the built-in SBI, as QEMU's OpenSBI
  EXPECT_EQ(o.machine.smp, 1u);
  EXPECT_EQ(o.machine.ram_size, 128ull << 20);
  EXPECT_EQ(o.machine.serial, "stdio");
  EXPECT_TRUE(o.machine.drives.empty());
  EXPECT_TRUE(o.machine.blk_devices.empty());
  EXPECT_FALSE(o.machine.no_reboot);
  EXPECT_FALSE(o.nographic);
  EXPECT_FALSE(o.gdb_wait);
  EXPECT_EQ(o.gdb, "");
  EXPECT_EQ(o.accel_threads, "");
}

TEST(Options, Xv6MakefileLine) {
  cli::Options o = parse({"-machine", "virt", "-bios", "none", "-kernel", "kernel/kernel", "-m", "128M", "-smp", "4",
                          "-nographic", "-global", "virtio-mmio.force-legacy=false", "-drive",
                          "file=fs.img,if=none,format=raw,id=x0", "-device",
                          "virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0"});
  EXPECT_EQ(o.machine.bios, "none");
  EXPECT_EQ(o.machine.kernel, "kernel/kernel");
  EXPECT_EQ(o.machine.ram_size, 128ull << 20);
  EXPECT_EQ(o.machine.smp, 4u);
  EXPECT_TRUE(o.nographic);
  EXPECT_EQ(o.machine.serial, "stdio");
  ASSERT_EQ(o.machine.drives.size(), 1u);
  EXPECT_EQ(o.machine.drives[0].id, "x0");
  EXPECT_EQ(o.machine.drives[0].file, "fs.img");
  EXPECT_EQ(o.machine.drives[0].format, "raw");
  EXPECT_FALSE(o.machine.drives[0].readonly);
  ASSERT_EQ(o.machine.blk_devices.size(), 1u);
  EXPECT_EQ(o.machine.blk_devices[0].drive, "x0");
  EXPECT_EQ(o.machine.blk_devices[0].slot, 0);
}

TEST(Options, OpenSbiUbootLine) {
  cli::Options o = parse({"-M", "virt", "-smp", "4", "-bios",
                          "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf", "-kernel",
                          "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf", "-nographic"});
  EXPECT_EQ(o.machine.bios, "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf");
  EXPECT_EQ(o.machine.kernel, "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf");
  EXPECT_EQ(o.machine.smp, 4u);
}

TEST(Options, LinuxLine) {
  cli::Options o = parse({"-M", "virt", "-m", "1G", "-smp", "8", "-bios", "default", "-kernel", "Image", "-initrd",
                          "rootfs.cpio", "-append", "console=ttyS0 earlycon=sbi", "-drive",
                          "file=disk.img,format=raw,if=virtio", "-serial", "mon:stdio", "-display", "none"});
  EXPECT_EQ(o.machine.ram_size, 1ull << 30);
  EXPECT_EQ(o.machine.smp, 8u);
  EXPECT_EQ(o.machine.bios, "default");
  EXPECT_EQ(o.machine.initrd, "rootfs.cpio");
  EXPECT_EQ(o.machine.append, "console=ttyS0 earlycon=sbi");
  EXPECT_EQ(o.machine.serial, "stdio");
  ASSERT_EQ(o.machine.drives.size(), 1u);
  EXPECT_EQ(o.machine.drives[0].id, "virtio0");
  ASSERT_EQ(o.machine.blk_devices.size(), 1u);
  EXPECT_EQ(o.machine.blk_devices[0].drive, "virtio0");
  EXPECT_EQ(o.machine.blk_devices[0].slot, -1);
}

TEST(Options, DoubleDashIsTheSameAsOneDash) {
  cli::Options o = parse({"--smp", "3", "--m", "64", "--kernel", "k", "--nographic", "--machine", "virt"});
  EXPECT_EQ(o.machine.smp, 3u);
  EXPECT_EQ(o.machine.ram_size, 64ull << 20);
  EXPECT_TRUE(o.nographic);
}

// ---- -machine ----

TEST(Options, Machine) {
  EXPECT_EQ(parse_k({"-M", "virt"}).machine.dumpdtb, "");
  EXPECT_EQ(parse({"-M", "virt,dumpdtb=out.dtb"}).machine.dumpdtb, "out.dtb");  // nothing else needed
  EXPECT_EQ(parse({"-machine", "type=virt,dumpdtb=a,,b.dtb"}).machine.dumpdtb, "a,b.dtb");
  EXPECT_EQ(parse({"-M", "virt", "-M", "dumpdtb=x.dtb"}).machine.dumpdtb, "x.dtb");
  EXPECT_EQ(parse_k({"-M", "virt,"}).machine.smp, 1u);  // a trailing comma is harmless
  EXPECT_NO_THROW(parse_k({"-M", "virt,aclint=off,aia=none,accel=tcg"}));
}

TEST(Options, MachineErrors) {
  EXPECT_CONTAINS(error_k({"-M", "sifive_u"}), "option '-M': unsupported machine type 'sifive_u'");
  EXPECT_CONTAINS(error_k({"-machine", "virt,foo=1"}), "option '-machine': unsupported machine property 'foo'");
  EXPECT_CONTAINS(error_k({"-M", "virt,aclint=on"}), "option '-M': aclint=on is not supported");
  EXPECT_CONTAINS(error_k({"-M", "virt,aia=aplic-imsic"}), "aia=aplic-imsic is not supported");
  EXPECT_CONTAINS(error_k({"-M", "virt,dumpdtb="}), "option '-M': needs a file name");
  EXPECT_CONTAINS(error_k({"-M", "virt,dumpdtb=a,dumpdtb=b"}), "'dumpdtb' is given twice");
  EXPECT_CONTAINS(error_k({"-M", "virt,,dumpdtb=x"}), "unsupported machine property 'virt,dumpdtb'");
  EXPECT_CONTAINS(error_k({"-M", "virt,=x"}), "'=x' has no parameter name");
  EXPECT_CONTAINS(error_k({"-M", ""}), "option '-M': empty argument");
  EXPECT_CONTAINS(error_k({"-M", ",virt"}), "option '-M': empty item");
}

TEST(Options, MachineHelp) {
  for (const char* opt : {"-M", "-machine", "--machine"}) {
    cli::Options o = parse({opt, "help"});
    EXPECT_TRUE(o.help);
    EXPECT_CONTAINS(o.help_output, "virt");
  }
}

// ---- -smp ----

TEST(Options, Smp) {
  EXPECT_EQ(parse_k({"-smp", "1"}).machine.smp, 1u);
  EXPECT_EQ(parse_k({"-smp", "4"}).machine.smp, 4u);
  EXPECT_EQ(parse_k({"-smp", "cpus=6"}).machine.smp, 6u);
  EXPECT_EQ(parse_k({"-smp", "4,sockets=1"}).machine.smp, 4u);
  EXPECT_EQ(parse_k({"-smp", "cpus=8,sockets=1,cores=8,threads=1,maxcpus=8"}).machine.smp, 8u);
  EXPECT_EQ(parse_k({"-smp", "cores=3"}).machine.smp, 3u);
  EXPECT_EQ(parse_k({"-smp", "cores=2,threads=2"}).machine.smp, 4u);
  EXPECT_EQ(parse_k({"-smp", "8,threads=2"}).machine.smp, 8u);
  EXPECT_EQ(parse_k({"-smp", "maxcpus=4"}).machine.smp, 4u);
  EXPECT_EQ(parse_k({"-smp", "2,maxcpus=4"}).machine.smp, 2u);  // hotplug room is accepted and unused
  EXPECT_EQ(parse_k({"-smp", "1024"}).machine.smp, 1024u);
  EXPECT_EQ(parse_k({"-smp", "4,dies=1,clusters=1"}).machine.smp, 4u);
}

TEST(Options, SmpErrors) {
  EXPECT_CONTAINS(error_k({"-smp", "0"}), "option '-smp': cpus=0 is not a positive number");
  EXPECT_CONTAINS(error_k({"-smp", "1025"}), "option '-smp': cpus=1025 is more than coremu's limit of 1024");
  EXPECT_CONTAINS(error_k({"-smp", "99999999999999999999999"}), "option '-smp'");
  EXPECT_CONTAINS(error_k({"-smp", "four"}), "option '-smp': cpus=four is not a positive number");
  EXPECT_CONTAINS(error_k({"-smp", "-4"}), "option '-smp'");
  EXPECT_CONTAINS(error_k({"-smp", "4x"}), "option '-smp'");
  EXPECT_CONTAINS(error_k({"-smp", ""}), "option '-smp': empty argument");
  EXPECT_CONTAINS(error_k({"-smp", "4,sockets=2"}), "option '-smp': sockets=2 is not supported");
  // QEMU derives sockets before threads: 8,cores=4 is two sockets.
  EXPECT_CONTAINS(error_k({"-smp", "8,cores=4"}), "option '-smp': sockets=2 is not supported");
  EXPECT_CONTAINS(error_k({"-smp", "4,cores=3"}), "option '-smp': invalid CPU topology");
  EXPECT_CONTAINS(error_k({"-smp", "4,maxcpus=2"}), "option '-smp': cpus (4) is more than maxcpus (2)");
  EXPECT_CONTAINS(error_k({"-smp", "cores=1024,threads=2"}), "more than coremu's limit");
  EXPECT_CONTAINS(error_k({"-smp", "4,dies=2"}), "dies and clusters are not supported");
  EXPECT_CONTAINS(error_k({"-smp", "4,books=1"}), "option '-smp': unsupported parameter 'books'");
  EXPECT_CONTAINS(error_k({"-smp", "4,cpus=2"}), "'cpus' is given twice");
  EXPECT_CONTAINS(error_k({"-smp", "sockets=1,4"}), "unsupported parameter '4'");
}

// ---- -m ----

TEST(Options, MemorySizes) {
  auto ram = [](const std::string& arg) { return parse_k({"-m", arg}).machine.ram_size; };
  EXPECT_EQ(ram("512"), 512ull << 20);  // a plain number is MiB
  EXPECT_EQ(ram("512M"), 512ull << 20);
  EXPECT_EQ(ram("512m"), 512ull << 20);
  EXPECT_EQ(ram("2G"), 2ull << 30);
  EXPECT_EQ(ram("2g"), 2ull << 30);
  EXPECT_EQ(ram("1T"), 1ull << 40);
  EXPECT_EQ(ram("65536K"), 64ull << 20);
  EXPECT_EQ(ram("65536k"), 64ull << 20);
  EXPECT_EQ(ram("1.5G"), 3ull << 29);
  EXPECT_EQ(ram("0.5"), 512ull << 10);
  EXPECT_EQ(ram("size=256M"), 256ull << 20);
  EXPECT_EQ(ram("1048576B"), 1ull << 20);
  EXPECT_EQ(ram("1k"), 8192u);      // QEMU rounds up to 8 KiB
  EXPECT_EQ(ram("12345B"), 16384u);
  EXPECT_EQ(ram("16383P"), 16383ull << 50);
}

TEST(Options, MemoryErrors) {
  EXPECT_CONTAINS(error_k({"-m", "0"}), "option '-m': the RAM size must not be zero");
  EXPECT_CONTAINS(error_k({"-m", "0M"}), "option '-m': the RAM size must not be zero");
  EXPECT_CONTAINS(error_k({"-m", "12x"}), "option '-m': '12x' is not a size");
  EXPECT_CONTAINS(error_k({"-m", "M"}), "option '-m': 'M' is not a size");
  EXPECT_CONTAINS(error_k({"-m", "1.G"}), "option '-m'");
  EXPECT_CONTAINS(error_k({"-m", "-1"}), "option '-m'");
  EXPECT_CONTAINS(error_k({"-m", "0x100"}), "option '-m'");
  EXPECT_CONTAINS(error_k({"-m", "1 G"}), "option '-m'");
  EXPECT_CONTAINS(error_k({"-m", "1MM"}), "option '-m'");
  EXPECT_CONTAINS(error_k({"-m", "16E"}), "option '-m': '16E' is not a size");  // 2^64
  EXPECT_CONTAINS(error_k({"-m", "99999999999999999999"}), "option '-m'");
  EXPECT_CONTAINS(error_k({"-m", "17592186044416"}), "option '-m'");  // 2^44 MiB = 2^64 bytes
  EXPECT_CONTAINS(error_k({"-m", "15.9999999999999999999E"}), "option '-m': '15.9999999999999999999E' is too large");
  EXPECT_CONTAINS(error_k({"-m", "512M,slots=2,maxmem=1G"}), "option '-m': memory hotplug");
  EXPECT_CONTAINS(error_k({"-m", "size=1G,foo=2"}), "option '-m': unsupported parameter 'foo'");
  EXPECT_CONTAINS(error_of({"-m"}), "option '-m' needs an argument");
  EXPECT_CONTAINS(error_of({"-kernel", "k", "-m"}), "option '-m' needs an argument");
}

// ---- images ----

TEST(Options, Images) {
  cli::Options o = parse({"-bios", "fw.bin", "-kernel", "k", "-initrd", "rd", "-append", "a b,c", "-dtb", "my.dtb"});
  EXPECT_EQ(o.machine.bios, "fw.bin");
  EXPECT_EQ(o.machine.initrd, "rd");
  EXPECT_EQ(o.machine.append, "a b,c");  // -append is not a key=value list
  EXPECT_EQ(o.machine.dtb, "my.dtb");
  EXPECT_EQ(parse({"-bios", "default"}).machine.bios, "default");
  EXPECT_EQ(parse({"-bios", "fw.elf"}).machine.kernel, "");  // firmware alone is enough
  EXPECT_EQ(parse_k({"-append", ""}).machine.append, "");
  // Later options override earlier ones, as in QEMU.
  EXPECT_EQ(parse({"-kernel", "a", "-kernel", "b"}).machine.kernel, "b");
  EXPECT_EQ(parse({"-kernel", "-weird-name"}).machine.kernel, "-weird-name");
}

TEST(Options, ImageErrors) {
  EXPECT_CONTAINS(error_of({"-kernel", ""}), "option '-kernel': needs a file name");
  EXPECT_CONTAINS(error_k({"-bios", ""}), "option '-bios': needs a file name");
  EXPECT_CONTAINS(error_k({"-initrd", ""}), "option '-initrd'");
  EXPECT_CONTAINS(error_k({"-dtb", ""}), "option '-dtb'");
  EXPECT_CONTAINS(error_of({"-kernel"}), "option '-kernel' needs an argument");
  EXPECT_CONTAINS(error_of({"-append"}), "option '-append' needs an argument");
  EXPECT_CONTAINS(error_of({"-smp", "2"}), "nothing to run");
  EXPECT_CONTAINS(error_of({"-nographic"}), "nothing to run");
  EXPECT_CONTAINS(error_of({"-bios", "none"}), "nothing to run");
}

// ---- display, serial, monitor ----

TEST(Options, SerialAndDisplay) {
  EXPECT_EQ(parse_k({"-serial", "stdio"}).machine.serial, "stdio");
  EXPECT_EQ(parse_k({"-serial", "mon:stdio"}).machine.serial, "stdio");
  EXPECT_EQ(parse_k({"-serial", "none"}).machine.serial, "none");
  EXPECT_EQ(parse_k({"-serial", "null"}).machine.serial, "none");
  EXPECT_EQ(parse_k({"-serial", "file:out.log"}).machine.serial, "file:out.log");
  // -nographic keeps an explicit -serial.
  cli::Options o = parse_k({"-nographic", "-serial", "file:x"});
  EXPECT_TRUE(o.nographic);
  EXPECT_EQ(o.machine.serial, "file:x");
  EXPECT_EQ(parse_k({"-serial", "none", "-nographic"}).machine.serial, "none");
  EXPECT_NO_THROW(parse_k({"-display", "none"}));
  EXPECT_NO_THROW(parse_k({"-monitor", "none"}));
}

TEST(Options, SerialErrors) {
  EXPECT_CONTAINS(error_k({"-serial", "pty"}), "option '-serial': unsupported serial device 'pty'");
  EXPECT_CONTAINS(error_k({"-serial", "file:"}), "option '-serial': file: needs a path");
  EXPECT_CONTAINS(error_k({"-serial", "stdio", "-serial", "none"}), "option '-serial': given twice");
  EXPECT_CONTAINS(error_k({"-display", "gtk"}), "option '-display': unsupported display 'gtk'");
  EXPECT_CONTAINS(error_k({"-monitor", "stdio"}), "option '-monitor': unsupported monitor 'stdio'");
}

// ---- -drive and -device ----

TEST(Options, Drives) {
  cli::Options o = parse_k({"-drive", "file=a.img,if=none,id=d0,readonly=on,cache=unsafe,media=disk", "-drive",
                            "file=b,,c.img,format=raw,id=d1,readonly=off", "-drive", "file=e.img", "-device",
                            "virtio-blk-device,drive=d1", "-device",
                            "driver=virtio-blk-device,drive=d0,bus=virtio-mmio-bus.7,id=blk0"});
  ASSERT_EQ(o.machine.drives.size(), 3u);
  EXPECT_EQ(o.machine.drives[0].file, "a.img");
  EXPECT_TRUE(o.machine.drives[0].readonly);
  EXPECT_FALSE(o.machine.drives[0].snapshot);
  EXPECT_TRUE(parse_k({"-drive", "file=s.img,snapshot=on"}).machine.drives[0].snapshot);
  EXPECT_EQ(o.machine.drives[1].file, "b,c.img");
  EXPECT_FALSE(o.machine.drives[1].readonly);
  EXPECT_EQ(o.machine.drives[2].id, "none0");  // QEMU's automatic id; an unused drive is fine
  ASSERT_EQ(o.machine.blk_devices.size(), 2u);
  EXPECT_EQ(o.machine.blk_devices[0].drive, "d1");
  EXPECT_EQ(o.machine.blk_devices[0].slot, -1);
  EXPECT_EQ(o.machine.blk_devices[1].drive, "d0");
  EXPECT_EQ(o.machine.blk_devices[1].slot, 7);
}

TEST(Options, DeviceMayComeBeforeItsDrive) {
  cli::Options o = parse_k({"-device", "virtio-blk-device,drive=late", "-drive", "id=late,file=x.img,if=none"});
  ASSERT_EQ(o.machine.blk_devices.size(), 1u);
  EXPECT_EQ(o.machine.blk_devices[0].drive, "late");
}

TEST(Options, IfVirtioDrives) {
  cli::Options o =
      parse_k({"-drive", "file=a.img,if=virtio", "-drive", "file=b.img,if=virtio,readonly", "-drive",
               "file=c.img,if=virtio,id=mine"});
  ASSERT_EQ(o.machine.drives.size(), 3u);
  EXPECT_EQ(o.machine.drives[0].id, "virtio0");
  EXPECT_EQ(o.machine.drives[1].id, "virtio1");
  EXPECT_TRUE(o.machine.drives[1].readonly);  // a bare key means key=on
  EXPECT_EQ(o.machine.drives[2].id, "mine");
  ASSERT_EQ(o.machine.blk_devices.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(o.machine.blk_devices[i].drive, o.machine.drives[i].id);
    EXPECT_EQ(o.machine.blk_devices[i].slot, -1);
  }
}

TEST(Options, DriveErrors) {
  EXPECT_CONTAINS(error_k({"-drive", "if=none,id=x"}), "option '-drive': needs file=PATH");
  EXPECT_CONTAINS(error_k({"-drive", "file=,id=x"}), "option '-drive': needs file=PATH");
  EXPECT_CONTAINS(error_k({"-drive", "fs.img"}), "option '-drive': unsupported drive parameter 'fs.img'");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,if=ide"}), "option '-drive': interface if=ide is not supported");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,format=qcow2"}), "option '-drive': format=qcow2 is not supported");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,readonly=maybe"}), "'readonly' takes on or off");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,cache=sometimes"}), "cache=sometimes is not a cache mode");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,media=cdrom"}), "media=cdrom is not supported");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,id=0bad"}), "id '0bad' is not a valid id");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,aio=native"}), "unsupported drive parameter 'aio'");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,snapshot=perhaps"}), "'snapshot' takes on or off");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,id=x", "-drive", "file=b,id=x"}), "duplicate drive id 'x'");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,if=virtio", "-drive", "file=b,id=virtio0"}),
                  "duplicate drive id 'virtio0'");
}

TEST(Options, DeviceErrors) {
  const Args drive = {"-drive", "file=a,if=none,id=d0"};
  auto with_drive = [&](Args more) {
    Args a = drive;
    a.insert(a.end(), more.begin(), more.end());
    return error_k(a);
  };
  EXPECT_CONTAINS(error_k({"-device", "virtio-net-device"}), "option '-device': unsupported device 'virtio-net-device'");
  EXPECT_CONTAINS(error_k({"-device", "virtio-blk-pci,drive=d0"}), "unsupported device 'virtio-blk-pci'");
  EXPECT_CONTAINS(error_k({"-device", "virtio-blk-device"}), "option '-device': virtio-blk-device needs drive=ID");
  EXPECT_CONTAINS(error_k({"-device", "virtio-blk-device,drive=nope"}), "option '-device': no -drive with id 'nope'");
  EXPECT_CONTAINS(with_drive({"-device", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus.8"}),
                  "option '-device': bus 'virtio-mmio-bus.8' not found");
  EXPECT_CONTAINS(with_drive({"-device", "virtio-blk-device,drive=d0,bus=pci.0"}), "bus 'pci.0' not found");
  EXPECT_CONTAINS(with_drive({"-device", "virtio-blk-device,drive=d0,bus=virtio-mmio-bus."}), "not found");
  EXPECT_CONTAINS(with_drive({"-device", "virtio-blk-device,drive=d0,num-queues=2"}),
                  "unsupported virtio-blk-device property 'num-queues'");
  EXPECT_CONTAINS(with_drive({"-device", "virtio-blk-device,drive=d0", "-device", "virtio-blk-device,drive=d0"}),
                  "drive 'd0' is already in use");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,if=virtio", "-device", "virtio-blk-device,drive=virtio0"}),
                  "drive 'virtio0' is already in use");
  EXPECT_CONTAINS(error_k({"-drive", "file=a,id=p", "-drive", "file=b,id=q", "-device",
                           "virtio-blk-device,drive=p,bus=virtio-mmio-bus.3", "-device",
                           "virtio-blk-device,drive=q,bus=virtio-mmio-bus.3"}),
                  "bus virtio-mmio-bus.3 is already in use");
  Args nine;
  for (int i = 0; i < 9; ++i) {
    nine.push_back("-drive");
    nine.push_back("file=x.img,if=virtio");
  }
  EXPECT_CONTAINS(error_k(nine), "too many virtio block devices (9)");
}

TEST(Options, DeviceHelp) {
  cli::Options o = parse({"-device", "help"});
  EXPECT_TRUE(o.help);
  EXPECT_CONTAINS(o.help_output, "virtio-blk-device");
}

// ---- -global ----

TEST(Options, Global) {
  EXPECT_NO_THROW(parse_k({"-global", "virtio-mmio.force-legacy=false"}));
  EXPECT_NO_THROW(parse_k({"-global", "virtio-mmio.force-legacy=off"}));
  EXPECT_NO_THROW(parse_k({"-global", "driver=virtio-mmio,property=force-legacy,value=false"}));
  EXPECT_CONTAINS(error_k({"-global", "virtio-mmio.force-legacy=true"}),
                  "option '-global': legacy virtio is not supported");
  EXPECT_CONTAINS(error_k({"-global", "virtio-mmio.force-legacy=on"}), "legacy virtio is not supported");
  EXPECT_CONTAINS(error_k({"-global", "virtio-mmio.force-legacy=sure"}), "takes on or off");
  EXPECT_CONTAINS(error_k({"-global", "virtio-blk-device.num-queues=2"}),
                  "option '-global': unsupported setting 'virtio-blk-device.num-queues'");
  EXPECT_CONTAINS(error_k({"-global", "nonsense"}), "option '-global': 'nonsense' is not of the form");
  EXPECT_CONTAINS(error_k({"-global", "a=b.c"}), "is not of the form");
}

// ---- small options ----

TEST(Options, Misc) {
  EXPECT_TRUE(parse_k({"-no-reboot"}).machine.no_reboot);
  EXPECT_NO_THROW(parse_k({"-name", "my guest"}));
  EXPECT_NO_THROW(parse_k({"-cpu", "rv64"}));
  EXPECT_NO_THROW(parse_k({"-cpu", "max"}));
  EXPECT_CONTAINS(error_k({"-cpu", "sifive-u54"}), "option '-cpu': unsupported CPU model 'sifive-u54'");
  EXPECT_CONTAINS(error_k({"-cpu", "rv64,h=true"}), "option '-cpu': CPU properties are not supported ('h=true')");
  EXPECT_CONTAINS(parse({"-cpu", "help"}).help_output, "rv64");
  EXPECT_CONTAINS(error_k({"-enable-kvm"}), "option '-enable-kvm': KVM is not supported");
  EXPECT_CONTAINS(error_k({"--enable-kvm"}), "option '--enable-kvm'");
}

TEST(Options, Symbols) {
  EXPECT_EQ(parse_k({"--symbols", "vmlinux", "-symbols", "fw.elf"}).symbols,
            (std::vector<std::string>{"vmlinux", "fw.elf"}));
  EXPECT_TRUE(parse_k({}).symbols.empty());
  EXPECT_CONTAINS(error_k({"--symbols", ""}), "option '--symbols': needs a file name");
  cli::Command c = cli::parse_command({"replay", "r.log", "--symbols", "vmlinux", "--repl"});
  EXPECT_EQ(c.symbols, std::vector<std::string>{"vmlinux"});
  EXPECT_TRUE(c.repl);
  EXPECT_THROW(cli::parse_command({"replay", "r.log", "--symbols"}), machine::ConfigError);
  EXPECT_THROW(cli::parse_command({"replay", "r.log", "--symbols", ""}), machine::ConfigError);
}

// What a recording stores, and what a replay accepts from a log (issue 15).
TEST(Options, RecordedArgsKeepOnlyTheMachinesShape) {
  Args all = {"-M",      "virt",  "-smp",          "4",         "-m",       "256M",  "-nographic", "-serial",
              "file:c",  "-accel", "tcg,threads=2", "--symbols", "vmlinux",  "-kernel", "k.elf",   "-name",
              "guest",   "-drive", "file=d.img,if=virtio,format=raw,cache=writethrough", "-no-reboot",
              "--chaos", "3",      "-display",      "none",      "-monitor", "none"};
  EXPECT_EQ(cli::recorded_args(all),
            (Args{"-M", "virt", "-smp", "4", "-m", "256M", "-kernel", "k.elf", "-drive",
                  "file=d.img,if=virtio,format=raw,cache=writethrough", "-no-reboot", "--chaos", "3"}));
  cli::Options o = cli::parse_recorded(cli::recorded_args(all));
  EXPECT_EQ(o.machine.smp, 4u);
  EXPECT_EQ(o.machine.drives.at(0).cache, machine::DriveConfig::Cache::kWritethrough);
  EXPECT_TRUE(cli::parse_recorded({}).demo);  // a recording of the bundled demo
  for (const Args& bad : {Args{"-serial", "file:/etc/passwd"}, Args{"-gdb", "tcp:0.0.0.0:4321"}, Args{"-s"},
                          Args{"-S"}, Args{"--repl"}, Args{"--symbols", "x"}, Args{"-nographic"},
                          Args{"-accel", "tcg"}, Args{"--clock", "host"}, Args{"-help"}, Args{"-version"}}) {
    Args a = {"-kernel", "k.elf"};
    a.insert(a.end(), bad.begin(), bad.end());
    try {
      cli::parse_recorded(a);
      ADD_FAILURE() << bad[0] << " accepted";
    } catch (const machine::ConfigError& e) {
      EXPECT_CONTAINS(std::string(e.what()), bad[0]);
    }
  }
  try {
    cli::parse_recorded({"-M", "virt,dumpdtb=/tmp/x", "-kernel", "k.elf"});
    ADD_FAILURE() << "dumpdtb accepted";
  } catch (const machine::ConfigError& e) {
    EXPECT_CONTAINS(std::string(e.what()), "dumpdtb=/tmp/x");
  }
  EXPECT_THROW(cli::parse_recorded({"-frobnicate"}), machine::ConfigError);
  EXPECT_THROW(cli::parse_recorded({"-kernel"}), machine::ConfigError);
}

TEST(Options, ReplaysOwnHostSideOptions) {
  cli::Command c = cli::parse_command({"replay", "r.log", "-serial", "file:out.txt", "-nographic"});
  EXPECT_EQ(c.serial, "file:out.txt");
  EXPECT_EQ(cli::parse_command({"replay", "r.log"}).serial, "stdio");
  EXPECT_EQ(cli::parse_command({"replay", "r.log", "-serial", "none"}).serial, "none");
  EXPECT_THROW(cli::parse_command({"replay", "r.log", "-serial", "tcp:x"}), machine::ConfigError);
  EXPECT_THROW(cli::parse_command({"replay", "r.log", "-smp", "2"}), machine::ConfigError);
}

TEST(Options, Accel) {
  EXPECT_EQ(parse_k({"-accel", "tcg"}).accel_threads, "");
  EXPECT_EQ(parse_k({"-accel", "tcg,thread=multi"}).accel_threads, "multi");
  EXPECT_EQ(parse_k({"-accel", "accel=tcg,thread=single"}).accel_threads, "single");
  EXPECT_CONTAINS(error_k({"-accel", "kvm"}), "option '-accel': accelerator 'kvm' is not supported");
  EXPECT_CONTAINS(error_k({"-accel", "tcg,thread=many"}), "thread=many is not valid");
  EXPECT_CONTAINS(error_k({"-accel", "tcg,split-wx=on"}), "unsupported tcg property 'split-wx'");
  EXPECT_EQ(parse_k({"-accel", "tcg,tb-size=64"}).machine.tb_size, 64ull << 20);
  EXPECT_CONTAINS(error_k({"-accel", "tcg,tb-size=0"}), "tb-size=0 is not valid");
  EXPECT_TRUE(parse_k({"-accel", "tcg"}).machine.jit);
  EXPECT_FALSE(parse_k({"-accel", "tcg,jit=off"}).machine.jit);
  EXPECT_CONTAINS(error_k({"-accel", "tcg,jit=maybe"}), "jit=maybe is not valid");
  EXPECT_EQ(parse_k({"-d", "in_asm,out_asm"}).machine.log_items, (std::vector<std::string>{"in_asm", "out_asm"}));
  EXPECT_CONTAINS(error_k({"-d", "int,in_asm"}), "unknown log item 'int'");
  EXPECT_TRUE(parse_k({"-d", "help"}).help);
  EXPECT_EQ(parse_k({"-D", "x.log"}).machine.log_file, "x.log");
  EXPECT_TRUE(parse_k({"-perfmap"}).machine.perfmap);
  EXPECT_CONTAINS(error_k({"-accel", "thread=multi"}), "needs an accelerator name");
  EXPECT_EQ(parse_k({"-accel", "tcg,threads=3"}).accel_pool, 3u);
  EXPECT_EQ(parse_k({"-accel", "tcg"}).accel_pool, 0u);
  EXPECT_CONTAINS(error_k({"-accel", "tcg,threads=0"}), "threads=0 is not valid");
  EXPECT_CONTAINS(error_k({"-accel", "tcg,threads=2x"}), "threads=2x is not valid");
  EXPECT_CONTAINS(error_k({"-accel", "tcg,thread=multi,threads=2"}), "cannot be combined");
  EXPECT_TRUE(parse({"-accel", "help"}).help);
}

TEST(Options, Clock) {
  EXPECT_EQ(parse_k({}).clock, "");  // not given: scaled
  EXPECT_EQ(parse_k({"--clock", "host"}).clock, "host");
  EXPECT_EQ(parse_k({"-clock", "scaled"}).clock, "scaled");
  EXPECT_CONTAINS(error_k({"--clock", "instructions"}), "option '--clock': clock 'instructions' is not valid (host or scaled)");
  EXPECT_CONTAINS(error_k({"--clock", ""}), "clock '' is not valid");
  EXPECT_CONTAINS(error_k({"--clock"}), "--clock");
  EXPECT_CONTAINS(error_k({"--clock", "host", "--deterministic"}), "--clock is for the parallel mode");
  EXPECT_CONTAINS(parse({"--help"}).help_output, "-clock scaled|host");
}

TEST(Options, Gdb) {
  EXPECT_EQ(parse_k({"-s"}).gdb, "tcp:127.0.0.1:1234");
  EXPECT_TRUE(parse_k({"-S"}).gdb_wait);
  EXPECT_FALSE(parse_k({"-s"}).gdb_wait);
  EXPECT_EQ(parse_k({"-gdb", "tcp::1234"}).gdb, "tcp:127.0.0.1:1234");
  EXPECT_EQ(parse_k({"-gdb", "tcp:localhost:4321"}).gdb, "tcp:localhost:4321");
  EXPECT_EQ(parse_k({"-gdb", "tcp:0.0.0.0:9000"}).gdb, "tcp:0.0.0.0:9000");
  EXPECT_EQ(parse_k({"-gdb", "tcp:[::1]:9000"}).gdb, "tcp:[::1]:9000");
  EXPECT_EQ(parse_k({"-gdb", "tcp::1234,server,nowait"}).gdb, "tcp:127.0.0.1:1234");
  EXPECT_EQ(parse_k({"-gdb", "5555"}).gdb, "tcp:127.0.0.1:5555");
  EXPECT_EQ(parse_k({"-gdb", "unix:/tmp/gdb.sock"}).gdb, "unix:/tmp/gdb.sock");
  EXPECT_EQ(parse_k({"-s", "-gdb", "none"}).gdb, "");
}

TEST(Options, GdbErrors) {
  EXPECT_CONTAINS(error_k({"-gdb", "tcp::0"}), "option '-gdb': '0' is not a TCP port");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp::65536"}), "'65536' is not a TCP port");
  EXPECT_CONTAINS(error_k({"-gdb", "99999999999999999999999"}), "is not a TCP port");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp:1234"}), "option '-gdb': 'tcp:1234' is not tcp:[HOST]:PORT");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp:"}), "option '-gdb': 'tcp:' is not tcp:[HOST]:PORT");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp:host:"}), "option '-gdb': '' is not a TCP port");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp:a b:1"}), "'a b' is not a host name");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp:[zz]:1"}), "is not a host name");
  EXPECT_CONTAINS(error_k({"-gdb", "unix:"}), "option '-gdb': unix: needs a socket path");
  EXPECT_CONTAINS(error_k({"-gdb", "stdio"}), "option '-gdb': unsupported GDB device 'stdio'");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp::1234,wait=on"}), "unsupported flag 'wait=on'");
  EXPECT_CONTAINS(error_k({"-gdb", "tcp::1234,"}), "unsupported flag ''");
}

// ---- help, version, unknown options ----

TEST(Options, HelpAndVersion) {
  for (const char* h : {"-h", "-help", "--help", "--h"}) {
    cli::Options o = parse({h});
    EXPECT_TRUE(o.help) << h;
    EXPECT_EQ(o.help_output, cli::help_text());
  }
  for (const char* v : {"-version", "--version"}) EXPECT_TRUE(parse({v}).version) << v;
  // Parsing stops at help, as in QEMU: later garbage is not reported...
  EXPECT_TRUE(parse({"-smp", "2", "--help", "-bogus"}).help);
  // ...but earlier garbage is.
  EXPECT_CONTAINS(error_of({"-bogus", "--help"}), "unsupported option '-bogus'");
}

TEST(Options, HelpTextListsEveryOption) {
  std::string h = cli::help_text();
  EXPECT_EQ(h.rfind("usage: coremu", 0), 0u);
  for (const char* opt : {"-machine, -M", "-smp", "-m [size=]SIZE", "-bios", "-kernel", "-initrd", "-append", "-dtb",
                          "-nographic", "-display", "-serial", "-monitor", "-drive", "-device", "-global",
                          "-no-reboot", "-name", "-cpu", "-accel", "-enable-kvm", "-s ", "-S ", "-gdb",
                          "-help, -h", "-version"})
    EXPECT_CONTAINS(h, opt);
  // xv6-riscv's Makefile picks its GDB options with `$(QEMU) -help | grep -q '^-gdb'`.
  EXPECT_CONTAINS(h, "\n-gdb ");
  EXPECT_CONTAINS(h, "\n-smp ");
}

TEST(Options, UnknownAndPositional) {
  EXPECT_EQ(error_k({"-foo"}), "unsupported option '-foo' (see coremu --help)");
  EXPECT_EQ(error_k({"--foo"}), "unsupported option '--foo' (see coremu --help)");
  EXPECT_CONTAINS(error_k({"-hda", "x.img"}), "unsupported option '-hda'");
  EXPECT_CONTAINS(error_k({"---smp", "2"}), "unsupported option '---smp'");
  EXPECT_CONTAINS(error_k({"--"}), "unsupported option '--'");
  EXPECT_CONTAINS(error_k({"-"}), "unexpected argument '-'");
  EXPECT_CONTAINS(error_k({"disk.img"}), "unexpected argument 'disk.img'");
  EXPECT_CONTAINS(error_k({"disk.img"}), "-drive file=disk.img,format=raw,if=virtio");
  EXPECT_CONTAINS(error_k({""}), "unexpected empty argument");
  // Control characters are escaped in messages.
  EXPECT_CONTAINS(error_k({std::string("-a\x1b[2Jb")}), "'-a\\x1b[2Jb'");
  EXPECT_CONTAINS(error_k({std::string(5000, 'z')}), "...");
  EXPECT_LT(error_k({"-" + std::string(5000, 'z')}).size(), 400u);
}

// Random command lines built from option names and argument fragments only
// ever produce a result or a ConfigError (the libFuzzer target goes further).
TEST(Options, RandomCommandLinesNeverCrash) {
  const std::vector<std::string> words = {
      "-M", "virt", "-smp", "4", "-m", "1G", "-drive", "file=a,if=none,id=x", "-device",
      "virtio-blk-device,drive=x", "-kernel", "k", "-gdb", "tcp::1", ",", ",,", "=", "help", "", "-", "--",
      "-serial", "file:", "-global", "0", "99999999999999999999999", "1.5E", "cpus=1,maxcpus=1024,cores=",
      "-accel", "tcg,thread", "-S", "-s", "-bios", "none", "sockets=1024,cores=1024,threads=1024", "-cpu"};
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    Args args;
    int n = static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      std::string w = words[rng() % words.size()];
      if (rng() % 4 == 0) w += words[rng() % words.size()];
      args.push_back(w);
    }
    try {
      cli::parse_options(args);
    } catch (const machine::ConfigError& e) {
      EXPECT_NE(std::string(e.what()), "");
    }
  }
}

}  // namespace

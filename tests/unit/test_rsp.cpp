// Unit tests of the GDB remote protocol parser (gdbstub/rsp.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rsp.h"

using namespace gdbstub;

namespace {
std::vector<PacketReader::Event> feed(PacketReader& r, const std::string& s) {
  std::vector<PacketReader::Event> out;
  r.feed(reinterpret_cast<const uint8_t*>(s.data()), s.size(), out);
  return out;
}
}  // namespace

TEST(Rsp, FramesAndParsesPackets) {
  EXPECT_EQ(frame("OK"), "$OK#9a");
  PacketReader r;
  auto ev = feed(r, "+garbage$qC#b4\x03-");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].kind, PacketReader::Kind::kAck);
  EXPECT_EQ(ev[1].kind, PacketReader::Kind::kPacket);
  EXPECT_EQ(ev[1].data, "qC");
  EXPECT_EQ(ev[2].kind, PacketReader::Kind::kInterrupt);
  EXPECT_EQ(ev[3].kind, PacketReader::Kind::kNack);
}

TEST(Rsp, PacketsSplitAcrossReads) {
  PacketReader r;
  EXPECT_TRUE(feed(r, "$q").empty());
  EXPECT_TRUE(feed(r, "C#b").empty());
  auto ev = feed(r, "4");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].data, "qC");
}

TEST(Rsp, BadChecksumsAndCutOffPackets) {
  PacketReader r;
  auto ev = feed(r, "$qC#00$qC#zz$qC$qC#b4");
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].kind, PacketReader::Kind::kBadPacket);
  EXPECT_EQ(ev[1].kind, PacketReader::Kind::kBadPacket);
  EXPECT_EQ(ev[2].kind, PacketReader::Kind::kBadPacket);
  EXPECT_EQ(ev[3].kind, PacketReader::Kind::kPacket);
  r.set_no_ack(true);  // checksums are not checked in no-ack mode
  ev = feed(r, "$qC#00");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, PacketReader::Kind::kPacket);
}

TEST(Rsp, OversizedPacketIsDropped) {
  PacketReader r;
  std::string big(PacketReader::kMaxPacket + 10, 'A');
  auto ev = feed(r, frame(big) + "$qC#b4");
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].kind, PacketReader::Kind::kBadPacket);
  EXPECT_EQ(ev[1].data, "qC");
}

TEST(Rsp, EscapesAndRunLength) {
  EXPECT_EQ(escape_binary("a#$}*b"), "a}\x03}\x04}]}\x0a" "b");
  EXPECT_EQ(unescape("a}\x03}\x04}]}\x0a" "b"), std::optional<std::string>("a#$}*b"));
  EXPECT_EQ(unescape("0* "), std::optional<std::string>("0000"));  // ' ' = 32: 3 more
  EXPECT_FALSE(unescape("}"));
  EXPECT_FALSE(unescape("*!"));
}

TEST(Rsp, Arguments) {
  auto m = parse_mem_args("80000000,40");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->addr, 0x80000000u);
  EXPECT_EQ(m->len, 0x40u);
  EXPECT_FALSE(parse_mem_args("80000000"));
  EXPECT_FALSE(parse_mem_args(",4"));
  EXPECT_FALSE(parse_mem_args("12345678123456789,4"));  // more than 64 bits
  auto z = parse_point("2,80001000,8;X1,0");
  ASSERT_TRUE(z);
  EXPECT_EQ(z->type, 2u);
  EXPECT_EQ(z->addr, 0x80001000u);
  EXPECT_EQ(z->kind, 8u);
  EXPECT_FALSE(parse_point("5,0,4"));
  EXPECT_EQ(parse_thread_id("-1"), std::optional<int64_t>(-1));
  EXPECT_EQ(parse_thread_id("ff"), std::optional<int64_t>(255));
  EXPECT_EQ(parse_thread_id("p1.3"), std::optional<int64_t>(3));
  EXPECT_FALSE(parse_thread_id("zz"));
  EXPECT_EQ(parse_reg_hex("efbeadde"), std::optional<uint64_t>(0xdeadbeef));
  EXPECT_EQ(reg_hex(0xdeadbeef, 4), "efbeadde");
}

TEST(Rsp, VCont) {
  auto v = parse_vcont(";s:2;c");
  ASSERT_TRUE(v);
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].action, 's');
  EXPECT_EQ((*v)[0].thread, 2);
  EXPECT_EQ((*v)[1].action, 'c');
  EXPECT_EQ((*v)[1].thread, -1);
  v = parse_vcont(";C05:1;S0b");
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].action, 'c');
  EXPECT_EQ((*v)[1].action, 's');
  EXPECT_FALSE(parse_vcont(""));
  EXPECT_FALSE(parse_vcont(";x"));
  EXPECT_FALSE(parse_vcont(";C"));
  EXPECT_FALSE(parse_vcont(";c:"));
  EXPECT_FALSE(parse_vcont("c"));
}

// SiFive PLIC. Each source has a gateway: while its line is high and it is
// not being serviced, it is pending. A claim moves the source from pending to
// in service; the completion ends service, and a line still high makes the
// source pending again. Lowering the line withdraws a pending request.
#include "machine/plic.h"

#include <algorithm>

#include "machine/state.h"

namespace machine {

namespace {
bool test_bit(const uint32_t* words, unsigned i) { return (words[i / 32] >> (i % 32)) & 1; }
void put_bit(uint32_t* words, unsigned i, bool v) {
  if (v)
    words[i / 32] |= 1u << (i % 32);
  else
    words[i / 32] &= ~(1u << (i % 32));
}
}  // namespace

Plic::Plic(HartLines& lines, unsigned num_harts)
    : lines_(lines), enable_(size_t{2} * num_harts * kWords), threshold_(2 * num_harts), output_(2 * num_harts) {}

uint64_t Plic::window_size(unsigned num_harts) {
  return std::max<uint64_t>(memmap::kPlicSize, kContextBase + uint64_t{2} * num_harts * kContextStride);
}

void Plic::reset() {
  std::lock_guard<std::mutex> lk(mu_);
  std::fill(std::begin(priority_), std::end(priority_), 0);
  std::fill(std::begin(pending_), std::end(pending_), 0);
  std::fill(std::begin(in_service_), std::end(in_service_), 0);
  std::fill(enable_.begin(), enable_.end(), 0);
  std::fill(threshold_.begin(), threshold_.end(), 0);
  // Input levels belong to the devices; a device reset lowers its own line.
  for (unsigned s = 1; s < kSources; ++s) put_bit(pending_, s, test_bit(level_, s));
  for (unsigned c = 0; c < contexts(); ++c) {
    output_[c] = 0;
    lines_.set_line(c / 2, (c & 1) ? rv64::kSEI : rv64::kMEI, false);
  }
}

namespace {
constexpr uint32_t kPlicTag = 0x43494c50;  // "PLIC"
}

void Plic::save(StateWriter& w) const {
  std::lock_guard<std::mutex> lk(mu_);
  w.u32(kPlicTag);
  w.u32(contexts());
  w.bytes(priority_, sizeof priority_);
  for (unsigned i = 0; i < kWords; ++i) {
    w.u32(level_[i]);
    w.u32(pending_[i]);
    w.u32(in_service_[i]);
  }
  for (uint32_t v : enable_) w.u32(v);
  w.bytes(threshold_.data(), threshold_.size());
  w.bytes(output_.data(), output_.size());
}

void Plic::load(StateReader& r) {
  r.expect_u32(kPlicTag, "PLIC state");
  if (r.u32() != contexts()) StateReader::fail("PLIC state for another number of harts");
  uint8_t priority[kSources];
  uint32_t level[kWords], pending[kWords], in_service[kWords];
  r.bytes(priority, sizeof priority);
  for (unsigned i = 0; i < kWords; ++i) {
    level[i] = r.u32();
    pending[i] = r.u32();
    in_service[i] = r.u32();
  }
  std::vector<uint32_t> enable(enable_.size());
  for (uint32_t& v : enable) v = r.u32();
  std::vector<uint8_t> threshold(threshold_.size()), output(output_.size());
  r.bytes(threshold.data(), threshold.size());
  r.bytes(output.data(), output.size());
  std::lock_guard<std::mutex> lk(mu_);
  std::copy(std::begin(priority), std::end(priority), priority_);
  std::copy(std::begin(level), std::end(level), level_);
  std::copy(std::begin(pending), std::end(pending), pending_);
  std::copy(std::begin(in_service), std::end(in_service), in_service_);
  enable_ = std::move(enable);
  threshold_ = std::move(threshold);
  output_ = std::move(output);
}

void Plic::set_irq(unsigned source, bool level) {
  if (source == 0 || source >= kSources) return;
  std::lock_guard<std::mutex> lk(mu_);
  put_bit(level_, source, level);
  if (!test_bit(in_service_, source)) put_bit(pending_, source, level);
  update();
}

unsigned Plic::best(unsigned ctx) const {
  const uint32_t* en = &enable_[size_t{ctx} * kWords];
  unsigned best_id = 0, best_prio = threshold_[ctx];
  for (unsigned w = 0; w < kWords; ++w) {
    uint32_t m = pending_[w] & en[w];
    while (m) {
      unsigned id = w * 32 + static_cast<unsigned>(__builtin_ctz(m));
      m &= m - 1;
      if (priority_[id] > best_prio) {  // strict: ties keep the lowest id
        best_prio = priority_[id];
        best_id = id;
      }
    }
  }
  return best_id;
}

void Plic::drive(unsigned ctx, bool level) {
  if (output_[ctx] == level) return;
  output_[ctx] = level;
  lines_.set_line(ctx / 2, (ctx & 1) ? rv64::kSEI : rv64::kMEI, level);
}

void Plic::update() {
  bool any = false;
  for (unsigned w = 0; w < kWords; ++w) any |= pending_[w] != 0;
  for (unsigned c = 0; c < contexts(); ++c) drive(c, any && best(c) != 0);
}

bool Plic::read(uint64_t offset, unsigned size, uint64_t& value) {
  if (size != 4) return false;
  std::lock_guard<std::mutex> lk(mu_);
  value = 0;
  if (offset < kPendingBase) {
    unsigned id = static_cast<unsigned>(offset / 4);
    if (id < kSources) value = priority_[id];
  } else if (offset < kEnableBase) {
    unsigned w = static_cast<unsigned>((offset - kPendingBase) / 4);
    if (w < kWords) value = pending_[w];
  } else if (offset < kContextBase) {
    uint64_t ctx = (offset - kEnableBase) / kEnableStride, w = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx < contexts() && w < kWords) value = enable_[ctx * kWords + w];
  } else {
    uint64_t ctx = (offset - kContextBase) / kContextStride, reg = (offset - kContextBase) % kContextStride;
    if (ctx >= contexts()) return true;
    if (reg == 0) {
      value = threshold_[ctx];
    } else if (reg == 4) {
      unsigned id = best(static_cast<unsigned>(ctx));
      if (id) {
        put_bit(pending_, id, false);
        put_bit(in_service_, id, true);
        update();
      }
      value = id;
    }
  }
  return true;
}

bool Plic::write(uint64_t offset, unsigned size, uint64_t value) {
  if (size != 4) return false;
  std::lock_guard<std::mutex> lk(mu_);
  uint32_t v = static_cast<uint32_t>(value);
  if (offset < kPendingBase) {
    unsigned id = static_cast<unsigned>(offset / 4);
    if (id == 0 || id >= kSources) return true;
    priority_[id] = v & 7;
  } else if (offset < kEnableBase) {
    return true;  // pending bits are read-only
  } else if (offset < kContextBase) {
    uint64_t ctx = (offset - kEnableBase) / kEnableStride, w = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx >= contexts() || w >= kWords) return true;
    if (w == 0) v &= ~1u;  // source 0 does not exist
    enable_[ctx * kWords + w] = v;
  } else {
    uint64_t ctx = (offset - kContextBase) / kContextStride, reg = (offset - kContextBase) % kContextStride;
    if (ctx >= contexts()) return true;
    if (reg == 0) {
      threshold_[ctx] = v & 7;
    } else if (reg == 4) {
      // Completion; ignored for sources not enabled for this context.
      if (v == 0 || v >= kSources || !test_bit(&enable_[ctx * kWords], v)) return true;
      if (!test_bit(in_service_, v)) return true;
      put_bit(in_service_, v, false);
      put_bit(pending_, v, test_bit(level_, v));
    } else {
      return true;
    }
  }
  update();
  return true;
}

}  // namespace machine

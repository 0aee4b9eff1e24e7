#include "machine/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "machine/machine.h"
#include "machine/state.h"

namespace machine {

namespace {

constexpr size_t kPage = rv64::kPageSize;

bool is_zero(const uint8_t* p) {
  uint64_t acc = 0;
  for (size_t i = 0; i < kPage; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    acc |= v;
  }
  return acc == 0;
}

}  // namespace

Checkpoints::Checkpoints(Machine& m) : m_(m) {
  rv64::Ram& ram = m_.ram();
  if (ram.num_pages() >= kNone) throw std::length_error("checkpoints: RAM too large");
  latest_.assign(ram.num_pages(), kNone);
  ram.set_dirty_tracking(true);
}

Checkpoints::~Checkpoints() { m_.ram().set_dirty_tracking(false); }

const Checkpoints::Page* Checkpoints::find(uint32_t cp, uint32_t page) const {
  const std::vector<Page>& v = cps_[cp].pages;
  auto it = std::lower_bound(v.begin(), v.end(), page, [](const Page& p, uint32_t i) { return p.index < i; });
  return it != v.end() && it->index == page ? &*it : nullptr;
}

void Checkpoints::save_page(Checkpoint& cp, uint32_t cp_id, uint32_t index) {
  const uint8_t* now = m_.ram().host() + uint64_t{index} * kPage;
  uint32_t prev = latest_[index];
  const uint8_t* old = nullptr;  // newest copy; nullptr: zero
  if (prev != kNone) old = find(prev, index)->data.get();
  bool zero = is_zero(now);
  if (old ? !zero && std::memcmp(old, now, kPage) == 0 : zero) return;  // unchanged since its newest copy
  Page p{index, prev, nullptr};
  if (!zero) {
    p.data.reset(new uint8_t[kPage]);
    std::memcpy(p.data.get(), now, kPage);
    page_bytes_ += kPage;
  }
  page_bytes_ += sizeof(Page);
  cp.pages.push_back(std::move(p));
  latest_[index] = cp_id;
}

size_t Checkpoints::take() {
  rv64::Ram& ram = m_.ram();
  uint32_t id = static_cast<uint32_t>(cps_.size());
  Checkpoint cp;
  StateWriter w;
  m_.save_state(w);
  cp.state = std::move(w.data());
  cp.state.shrink_to_fit();
  if (cps_.empty()) {
    ram.take_dirty([](uint64_t) {});
    for (uint64_t i = 0; i < ram.num_pages(); ++i) save_page(cp, id, static_cast<uint32_t>(i));
  } else {
    ram.take_dirty([&](uint64_t i) { save_page(cp, id, static_cast<uint32_t>(i)); });
  }
  last_saved_ = cp.pages.size();
  cps_.push_back(std::move(cp));
  for (unsigned h = 0; h < m_.num_harts(); ++h) m_.hart(h).rearm_dirty_tracking();
  return id;
}

void Checkpoints::restore(size_t id) {
  if (id >= cps_.size())
    throw std::out_of_range("checkpoint " + std::to_string(id) + " does not exist (" + std::to_string(cps_.size()) +
                            " held)");
  rv64::Ram& ram = m_.ram();
  // The machine state first: if it is refused nothing has changed.
  StateReader r(cps_[id].state);
  m_.load_state(r);

  // Pages written since checkpoint `id`: saved by a later checkpoint, or
  // dirty since the last one.
  std::vector<uint32_t> pages;
  for (size_t k = id + 1; k < cps_.size(); ++k)
    for (const Page& p : cps_[k].pages) pages.push_back(p.index);
  ram.take_dirty([&](uint64_t i) { pages.push_back(static_cast<uint32_t>(i)); });
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  for (uint32_t i : pages) {
    uint32_t c = latest_[i];
    const Page* p = nullptr;
    while (c != kNone && c > id) {
      p = find(c, i);
      c = p->prev;
    }
    p = c == kNone ? nullptr : find(c, i);
    uint8_t* dst = ram.host() + uint64_t{i} * kPage;
    if (p && p->data)
      std::memcpy(dst, p->data.get(), kPage);
    else
      std::memset(dst, 0, kPage);
    // Code on the page may have changed: bump its generation, so that no
    // decoded block or shared translation of the old bytes runs again.
    ram.note_write(ram.base() + uint64_t{i} * kPage, kPage);
    latest_[i] = c;
  }
  last_restored_ = pages.size();
  for (size_t k = id + 1; k < cps_.size(); ++k)
    for (const Page& p : cps_[k].pages) page_bytes_ -= sizeof(Page) + (p.data ? kPage : 0);
  cps_.resize(id + 1);
  ram.take_dirty([](uint64_t) {});
  // Harts' TLBs and decoded blocks were flushed by load_state.
}

size_t Checkpoints::bytes() const {
  size_t n = page_bytes_ + latest_.size() * sizeof(uint32_t);
  for (const Checkpoint& c : cps_) n += c.state.capacity() + sizeof(Checkpoint);
  return n;
}

}  // namespace machine

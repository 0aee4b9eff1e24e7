// Checkpoints of a whole machine (state + RAM) for reverse execution.
//
// RAM is saved incrementally through Ram's dirty-page tracking: the first
// checkpoint copies every non-zero page, each later one only the pages
// written since the previous checkpoint (and then only those whose content
// changed). Restoring checkpoint `id` rewrites the pages written since `id`
// from the newest copy at or before it.
//
// Every call must be made while no hart is inside Hart::run() (the harts
// are read and written without locks). Creating a Checkpoints object turns
// RAM dirty tracking on; destroying it turns it off. One Checkpoints per
// Machine at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace machine {

class Machine;

class Checkpoints {
 public:
  explicit Checkpoints(Machine& m);
  ~Checkpoints();
  Checkpoints(const Checkpoints&) = delete;
  Checkpoints& operator=(const Checkpoints&) = delete;

  // Takes a checkpoint of the whole machine and returns its id (0, 1, 2,
  // ...). Cost: proportional to the pages written since the previous
  // checkpoint (the first one reads all of RAM and copies its non-zero
  // pages). Harts keep their TLBs: their write entries are re-armed
  // (Hart::rearm_dirty_tracking) so the next store to each page marks it.
  size_t take();
  // Puts the machine back exactly as it was at checkpoint `id` and forgets
  // the checkpoints after it (the next take() returns id + 1). Harts' TLBs
  // and decoded code are flushed. Throws std::out_of_range for an unknown id.
  void restore(size_t id);
  size_t count() const { return cps_.size(); }
  // Memory held by all checkpoints (page copies, machine states, index).
  size_t bytes() const;

  // Statistics of the last take()/restore(): pages copied / rewritten.
  size_t last_pages_saved() const { return last_saved_; }
  size_t last_pages_restored() const { return last_restored_; }

 private:
  static constexpr uint32_t kNone = ~0u;
  struct Page {
    uint32_t index;  // RAM page number
    uint32_t prev;   // checkpoint holding the previous copy of this page, or kNone (zero before)
    std::unique_ptr<uint8_t[]> data;  // nullptr: the page was all zero
  };
  struct Checkpoint {
    std::vector<uint8_t> state;  // Machine::save_state
    std::vector<Page> pages;     // sorted by index
  };
  const Page* find(uint32_t cp, uint32_t page) const;
  // Copies page `index` into checkpoint `cp` unless it equals its newest copy.
  void save_page(Checkpoint& cp, uint32_t cp_id, uint32_t index);

  Machine& m_;
  std::vector<Checkpoint> cps_;
  std::vector<uint32_t> latest_;  // per RAM page: the newest checkpoint holding a copy, or kNone
  size_t page_bytes_ = 0;         // bytes of page copies and entries
  size_t last_saved_ = 0, last_restored_ = 0;
};

}  // namespace machine

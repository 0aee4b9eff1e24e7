#include "coremu/det_runner.h"

#include <fmt/core.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "machine/checkpoint.h"

namespace coremu {

// Guest output while re-executing history is dropped: it was shown the
// first time the machine went through that part of the run.
class DetRunner::Output final : public machine::CharBackend {
 public:
  Output(DetRunner& r, machine::CharBackend* real) : r_(r), real_(real) {}
  void write(const uint8_t* data, size_t len) override {
    if (r_.cur_pos() < r_.shown_pos_ || len == 0) return;
    if (r_.progress_) r_.progress_->before_output();
    real_->write(data, len);
    if (r_.progress_) r_.progress_->after_output(data[len - 1]);
  }

 private:
  DetRunner& r_;
  machine::CharBackend* real_;
};

DetRunner::DetRunner(DetOptions opt) : opt_(opt) {
  if (opt_.quantum == 0) opt_.quantum = 1;
  if (opt_.digest_interval == 0) opt_.digest_interval = 1;
  if (opt_.checkpoint_interval == 0) opt_.checkpoint_interval = 1;
}

DetRunner::~DetRunner() = default;

machine::CharBackend* DetRunner::output(machine::CharBackend* real) {
  out_ = std::make_unique<Output>(*this, real);
  return out_.get();
}

void DetRunner::queue_input(const uint8_t* data, size_t len) {
  std::lock_guard<std::mutex> lk(in_mu_);
  input_.insert(input_.end(), data, data + len);
  in_cv_.notify_all();
}

void DetRunner::input_closed() {
  std::lock_guard<std::mutex> lk(in_mu_);
  input_closed_ = true;
  in_cv_.notify_all();
}

uint64_t DetRunner::cur_pos() const {
  if (!running_hart_) return pos_;
  const rv64::Hart& h = m_->hart(s_.cur);
  return pos_ + (h.current_icount() + h.traps() - run_base_);
}

uint64_t DetRunner::time_fp(uint64_t k, unsigned r) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(k) << 32) / (kStepsPerTick * std::max(1u, r)));
}

uint64_t DetRunner::now() {
  if (!s_.in_slice) return s_.ticks + (s_.tick_frac >> 32);
  uint64_t f = s_.tick_frac + time_fp(cur_pos() - s_.slice_pos, s_.slice_runnable);
  return s_.ticks + (f >> 32);
}

void DetRunner::end_slice() {
  uint64_t f = s_.tick_frac + time_fp(pos_ - s_.slice_pos, s_.slice_runnable);
  s_.ticks += f >> 32;
  s_.tick_frac = f & 0xffffffffull;
  s_.slice_pos = pos_;
  s_.in_slice = false;
}

void DetRunner::set_asleep(unsigned i, bool v) {
  if (s_.asleep[i] == v) return;
  s_.asleep[i] = v;
  if (v) --s_.runnable;
  else
    ++s_.runnable;
}

void DetRunner::set_line(unsigned hart, rv64::Irq irq, bool level) {
  if (m_ && hart < n_) {
    m_->hart(hart).set_irq_line(irq, level);
    touch(hart);
  }
}

void DetRunner::on_interrupt(rv64::Hart& h, uint64_t cause) {
  if (!journal_) return;
  std::string why = journal_->interrupt(slice_, h, cause);
  if (!why.empty() && divergence_.empty()) divergence_ = why;
}

uint64_t DetRunner::next_rand() {
  // splitmix64: a seeded sequence, the same on every host.
  uint64_t z = (s_.rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void DetRunner::touch(unsigned i) {
  if (i < n_ && !is_dirty_[i]) {
    is_dirty_[i] = 1;
    dirty_.push_back(i);
  }
}

void DetRunner::touch_all() {
  for (unsigned i = 0; i < n_; ++i) touch(i);
}

void DetRunner::arm(unsigned i, uint64_t t) {
  // Only deadlines still to come: a passed one has had its effect (the line
  // stays up until mtimecmp or stimecmp is written, which touches the hart).
  uint64_t d = ~0ull;
  uint64_t c = m_->mtimecmp(i), s = m_->hart(i).sstc_deadline();
  if (c > t) d = c;
  if (s > t) d = std::min(d, s);
  // The heap holds an entry {due_[i], i} for every armed hart: push only a
  // changed deadline (the current hart is looked at after every slice; a
  // push each time would grow the heap without bound).
  if (d == due_[i]) return;
  due_[i] = d;
  if (d != ~0ull) {
    heap_.push_back({d, i});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
}

void DetRunner::update_timers() {
  // The same as evaluating every hart here (each hart's lines only change
  // when time passes one of its deadlines or something touches it), at a
  // cost that does not grow with the number of harts.
  uint64_t t = now();
  auto eval = [&](unsigned i) {
    rv64::Hart& h = m_->hart(i);
    h.set_irq_line(rv64::kMTI, t >= m_->mtimecmp(i));
    h.update_sstc(t);
    if (s_.asleep[i] && h.wfi_wakeup_pending()) {
      set_asleep(i, false);
      h.set_in_wfi(false);
    }
    arm(i, t);
  };
  while (!heap_.empty() && heap_.front().first <= t) {
    auto [d, i] = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    heap_.pop_back();
    if (due_[i] == d && !is_dirty_[i]) eval(i);
  }
  for (unsigned i : dirty_) {
    is_dirty_[i] = 0;
    eval(i);
  }
  dirty_.clear();
  if (heap_.size() > 4 * n_ + 64) {  // drop the stale entries (and duplicates)
    std::vector<std::pair<uint64_t, unsigned>> live;
    std::vector<uint8_t> seen(n_, 0);
    for (auto& e : heap_)
      if (due_[e.second] == e.first && !seen[e.second]) {
        seen[e.second] = 1;
        live.push_back(e);
      }
    heap_.swap(live);
    std::make_heap(heap_.begin(), heap_.end(), std::greater<>());
  }
}

void DetRunner::draw_progress() {
  ProgressLine::Status st;
  st.pos = pos_;
  st.running = s_.runnable;
  st.asleep = n_ - s_.runnable;
  if (progress_fill_) progress_fill_(st);
  progress_->maybe_draw(st);
}

void DetRunner::check_digest() {
  std::vector<std::pair<uint64_t, uint64_t>> hs(n_);
  std::vector<uint64_t> ic(n_);
  for (unsigned i = 0; i < n_; ++i) {
    hs[i] = {m_->hart(i).steps(), m_->hart(i).state_hash()};
    ic[i] = m_->hart(i).icount();
  }
  std::string why = journal_->digest(slice_, pos_, hs, ic);
  if (!why.empty() && divergence_.empty()) divergence_ = why;
}

void DetRunner::maybe_checkpoint() {
  if (!ckpts_ || pos_ < next_ck_pos_) return;
  Ckpt c;
  c.id = ckpts_->take();
  c.s = s_;
  c.s.mark = journal_ ? journal_->mark() : 0;
  c.s.hart_steps.resize(n_);
  for (unsigned i = 0; i < n_; ++i) c.s.hart_steps[i] = m_->hart(i).steps();
  ck_.push_back(std::move(c));
  next_ck_pos_ = pos_ + opt_.checkpoint_interval;
}

void DetRunner::restore(const Ckpt& c) {
  Ckpt keep = c;  // c may live in ck_, which shrinks below
  ckpts_->restore(keep.id);
  while (!ck_.empty() && ck_.back().id > keep.id) ck_.pop_back();
  s_ = keep.s;
  if (journal_) journal_->rewind(keep.s.mark);
  next_ck_pos_ = keep.s.pos + opt_.checkpoint_interval;
  std::fill(reported_pc_.begin(), reported_pc_.end(), ~0ull);
  heap_.clear();
  std::fill(due_.begin(), due_.end(), ~0ull);
  touch_all();
  divergence_.clear();
  if (rewind_hook_) rewind_hook_();
}

const DetRunner::Ckpt* DetRunner::checkpoint_before(uint64_t pos, int hart, uint64_t hart_steps) const {
  for (auto it = ck_.rbegin(); it != ck_.rend(); ++it) {
    if (it->s.pos > pos) continue;
    if (hart >= 0 && it->s.hart_steps[static_cast<unsigned>(hart)] > hart_steps) continue;
    return &*it;
  }
  return ck_.empty() ? nullptr : &ck_.front();
}

// ---- the schedule ------------------------------------------------------------------

StopEvent DetRunner::stop_here(StopReason r) {
  StopEvent ev;
  ev.reason = r;
  ev.hart = s_.cur < n_ ? s_.cur : 0;
  if (n_) {
    ev.pc = m_->hart(ev.hart).pc;
    ev.icount = m_->hart(ev.hart).icount();
  }
  return ev;
}

StopEvent DetRunner::hit_event(unsigned i) {
  const rv64::Hart& h = m_->hart(i);
  const rv64::DebugHit& d = h.debug_hit();
  StopEvent ev;
  ev.hart = i;
  ev.reason = d.kind == rv64::DebugHit::kBreakpoint   ? StopReason::kBreakpoint
              : d.kind == rv64::DebugHit::kWatchpoint ? StopReason::kWatchpoint
                                                      : StopReason::kEvent;
  ev.pc = h.pc;
  ev.icount = h.icount();
  ev.addr = d.addr;
  ev.write = d.write;
  ev.before = d.before;
  return ev;
}

StopEvent DetRunner::advance(const Limits& lim) {
  bool step_done = false;
  for (;;) {
    if (stop_.load(std::memory_order_relaxed)) return stop_here(StopReason::kPaused);
    if (pause_req_.exchange(false)) return stop_here(StopReason::kPaused);
    if (m_->shutdown_status()) {
      StopEvent ev = stop_here(StopReason::kExited);
      ev.exit_status = *m_->shutdown_status();
      return ev;
    }
    if (m_->reboot_requested()) {
      m_->clear_reboot();
      m_->reset();
      if (s_.in_slice) end_slice();
      std::fill(s_.asleep.begin(), s_.asleep.end(), 0);
      s_.runnable = n_;
      touch_all();
    }
    if (!s_.in_slice) {
      if (progress_ && (++progress_calls_ & 63) == 0) draw_progress();
      maybe_checkpoint();
      if (journal_) journal_->sync(slice_, false);
      // ---- start the next slice ----
      bool replay = journal_ && journal_->replaying();
      if (replay) {
        if (slice_ > journal_->covered_slice()) {
          log_ended_ = true;
          return stop_here(StopReason::kReplayEnd);
        }
        std::vector<uint8_t> in = journal_->input_for(slice_);
        if (!in.empty() && m_->serial_input(in.data(), in.size()) != in.size() && divergence_.empty())
          divergence_ = "the UART did not accept the recorded input at slice " + std::to_string(slice_);
      } else {
        std::lock_guard<std::mutex> lk(in_mu_);
        if (!input_.empty()) {
          std::vector<uint8_t> buf(input_.begin(), input_.begin() + std::min<size_t>(input_.size(), 4096));
          size_t n = m_->serial_input(buf.data(), buf.size());
          if (n) {
            input_.erase(input_.begin(), input_.begin() + static_cast<std::ptrdiff_t>(n));
            if (journal_) journal_->input(slice_, buf.data(), n);
          }
        }
      }
      update_timers();
      if (journal_ && pos_ >= s_.next_digest) {
        check_digest();
        s_.next_digest = pos_ + opt_.digest_interval;
      }
      if (!divergence_.empty()) {
        diverged_ = true;
        return stop_here(StopReason::kDivergence);
      }
      // Choose the hart: round robin, or at random from the chaos seed.
      unsigned start = opt_.chaos_seed ? static_cast<unsigned>(next_rand() % n_) : (s_.cur + 1) % n_;
      int pick = -1;
      for (unsigned k = 0; k < n_; ++k) {
        unsigned i = (start + k) % n_;
        if (!s_.asleep[i]) {
          pick = static_cast<int>(i);
          break;
        }
      }
      if (pick < 0) {
        // Every hart sleeps: jump time to the next deadline, or wait for input.
        uint64_t t = now(), due = ~0ull;
        while (!heap_.empty() && due_[heap_.front().second] != heap_.front().first) {
          std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
          heap_.pop_back();
        }
        if (!heap_.empty()) due = heap_.front().first;
        ++slice_;
        if (due != ~0ull && due > t) {
          s_.ticks = due;
          s_.tick_frac = 0;
          continue;
        }
        if (replay) {
          if (journal_->has_more(slice_)) continue;
          log_ended_ = true;
          return stop_here(StopReason::kReplayEnd);
        }
        // Only input can wake a hart now.
        if (journal_) journal_->sync(slice_, true);
        if (progress_) draw_progress();
        std::unique_lock<std::mutex> lk(in_mu_);
        in_cv_.wait(lk, [&] {
          return !input_.empty() || stop_.load() || pause_req_.load();
        });
        continue;
      }
      uint64_t q = opt_.quantum;
      if (opt_.chaos_seed) {
        uint64_t r = next_rand();
        q = (r & 7) == 0 ? 1 + (r >> 8) % 64 : 1 + (r >> 8) % (2 * opt_.quantum);
      }
      s_.cur = static_cast<unsigned>(pick);
      cur_hart_.store(s_.cur, std::memory_order_relaxed);
      s_.slice_end = m_->hart(s_.cur).steps() + q;
      s_.slice_pos = pos_;
      s_.slice_runnable = s_.runnable;
      s_.in_slice = true;
    }
    // ---- just before the current hart's next step: the points stops land on ----
    rv64::Hart& h = m_->hart(s_.cur);
    if (step_done) {
      StopEvent ev = stop_here(StopReason::kStep);
      rv64::Hart& sh = m_->hart(static_cast<unsigned>(lim.step_hart));
      ev.hart = static_cast<unsigned>(lim.step_hart);
      ev.pc = sh.pc;
      ev.icount = sh.icount();
      return ev;
    }
    if (pos_ == end_at_) {  // where a recording stopped without a shutdown
      log_ended_ = true;
      return stop_here(StopReason::kReplayEnd);
    }
    if (pos_ == lim.pos || pos_ == stop_at_) return stop_here(StopReason::kStep);
    if (lim.before_hart == static_cast<int>(s_.cur) && h.steps() == lim.before_target)
      return stop_here(StopReason::kStep);
    uint64_t budget = s_.slice_end - h.steps();
    uint64_t until = std::min({lim.pos, stop_at_, end_at_});
    if (until != ~0ull && until > pos_) budget = std::min(budget, until - pos_);
    if (lim.before_hart == static_cast<int>(s_.cur) && h.steps() < lim.before_target)
      budget = std::min(budget, lim.before_target - h.steps());
    bool stepping = lim.step_hart == static_cast<int>(s_.cur);
    bool over = reported_pc_[s_.cur] == h.pc;
    reported_pc_[s_.cur] = ~0ull;
    run_base_ = h.steps();
    running_hart_ = true;
    rv64::Exit e = (stepping || over) ? h.step_exact() : h.run(budget);
    running_hart_ = false;
    if (e == rv64::Exit::kBudget && h.debug_hit().kind != rv64::DebugHit::kNone) e = rv64::Exit::kDebug;
    pos_ += h.steps() - run_base_;
    shown_pos_ = std::max(shown_pos_, pos_);
    touch(s_.cur);  // it may have written stimecmp, menvcfg or mie, or gone to sleep
    if (!divergence_.empty()) {
      diverged_ = true;
      return stop_here(StopReason::kDivergence);
    }
    if (stepping && h.steps() >= lim.step_target) step_done = true;
    bool end = h.steps() >= s_.slice_end;
    switch (e) {
      case rv64::Exit::kWfi:
        if (!h.wfi_wakeup_pending()) {
          set_asleep(s_.cur, true);
          h.set_in_wfi(true);
        }
        end = true;
        break;
      case rv64::Exit::kPause:
        end = true;
        break;
      case rv64::Exit::kDebug: {
        StopEvent ev = hit_event(s_.cur);
        bool before = ev.reason == StopReason::kBreakpoint || ev.reason == StopReason::kWatchpoint ||
                      (ev.reason == StopReason::kEvent && ev.before);
        if (lim.hits) {
          lim.hits->push_back({pos_, ev});
          if (before) reported_pc_[s_.cur] = h.pc;  // step over it and go on
          break;
        }
        if (!lim.breakpoints) {
          if (before) reported_pc_[s_.cur] = h.pc;
          break;
        }
        if (before) reported_pc_[s_.cur] = h.pc;  // continuing steps over it
        return ev;
      }
      default:
        break;
    }
    if (end) {  // (after a finished step: the stop comes before whichever hart runs next)
      end_slice();
      ++slice_;
    }
  }
}

// ---- commands ----------------------------------------------------------------------------

StopEvent DetRunner::go_to_pos(uint64_t p) {
  if (p < pos_) {
    const Ckpt* c = checkpoint_before(p, -1, 0);
    if (!c) return stop_here(StopReason::kReplayStart);
    restore(*c);
  }
  Limits lim;
  lim.breakpoints = false;
  lim.pos = p;
  StopEvent ev = advance(lim);
  if (ev.reason == StopReason::kStep && p == 0) ev.reason = StopReason::kReplayStart;
  return ev;
}

StopEvent DetRunner::reverse_step(unsigned hart, uint64_t n) {
  rv64::Hart& h = m_->hart(hart);
  uint64_t s = h.steps();
  if (s == 0 || n == 0) {
    if (s == 0) return go_to_pos(0);
    return stop_here(StopReason::kStep);
  }
  uint64_t target = s > n ? s - n : 0;
  const Ckpt* c = checkpoint_before(pos_, static_cast<int>(hart), target);
  if (!c) return stop_here(StopReason::kReplayStart);
  restore(*c);
  Limits lim;
  lim.breakpoints = false;
  lim.before_hart = static_cast<int>(hart);
  lim.before_target = target;
  StopEvent ev = advance(lim);
  if (ev.reason == StopReason::kStep) {
    ev.hart = hart;
    ev.pc = h.pc;
    ev.icount = h.icount();
    if (pos_ == 0) ev.reason = StopReason::kReplayStart;
  }
  return ev;
}

StopEvent DetRunner::reverse_continue() {
  uint64_t until = pos_;
  for (;;) {
    // The newest checkpoint strictly before `until`.
    const Ckpt* c = nullptr;
    for (auto it = ck_.rbegin(); it != ck_.rend(); ++it)
      if (it->s.pos < until) {
        c = &*it;
        break;
      }
    if (!c) break;
    Ckpt from = *c;
    std::vector<std::pair<uint64_t, StopEvent>> hits;
    restore(from);
    Limits scan;
    scan.pos = until;
    scan.hits = &hits;
    StopEvent r = advance(scan);
    if (r.reason != StopReason::kStep && pos_ < until) return r;  // paused, or the replay went wrong
    while (!hits.empty() && hits.back().first >= until) hits.pop_back();
    if (!hits.empty()) {
      auto [p, ev] = hits.back();
      restore(from);
      Limits lim;
      lim.breakpoints = false;
      lim.pos = p;
      advance(lim);
      if (ev.reason == StopReason::kEvent && ev.before) {
        // An event breakpoint's report (what the EventMonitor saw) is made
        // when the hart meets the access; the pass above stopped just
        // before it, so let the hart meet it again: the shadow, restarted
        // at the checkpoint, is what the scan saw there.
        Limits again;
        again.pos = p + 1;
        return advance(again);
      }
      if (ev.reason == StopReason::kBreakpoint || ev.reason == StopReason::kWatchpoint ||
          (ev.reason == StopReason::kEvent && ev.before))
        reported_pc_[ev.hart] = ev.pc;
      return ev;
    }
    if (from.s.pos == 0) break;
    until = from.s.pos;
  }
  return go_to_pos(0);
}

StopEvent DetRunner::execute(const Cmd& c) {
  touch_all();  // a debugger may have written registers, CSRs or the CLINT
  switch (c.kind) {
    case Cmd::kContinue:
      return advance(Limits{});
    case Cmd::kStep: {
      Limits lim;
      lim.step_hart = static_cast<int>(c.hart);
      lim.step_target = m_->hart(c.hart).steps() + c.n;
      return advance(lim);
    }
    case Cmd::kReverseStep:
      return reverse_step(c.hart, c.n);
    case Cmd::kReverseContinue:
      return reverse_continue();
    case Cmd::kGoto:
      return go_to_pos(c.n);
  }
  return stop_here(StopReason::kPaused);
}

// ---- running -----------------------------------------------------------------------------

int DetRunner::run(machine::Machine& m) {
  m_ = &m;
  n_ = m.num_harts();
  s_ = Sched{};
  s_.cur = n_ - 1;  // round robin starts at hart 0
  s_.rng = opt_.chaos_seed.value_or(0);
  s_.asleep.assign(n_, 0);
  s_.runnable = n_;
  dirty_.clear();
  is_dirty_.assign(n_, 0);
  due_.assign(n_, ~0ull);
  heap_.clear();
  touch_all();
  cur_hart_.store(0);
  reported_pc_.assign(n_, ~0ull);
  for (unsigned i = 0; i < n_; ++i) {
    m.hart(i).set_deterministic(true);
    m.hart(i).set_interrupt_observer(this);
  }
  const std::thread::id self = std::this_thread::get_id();
  m.on_shutdown = [this, self] {
    // The guest's own shutdown (a device store): the running hart returns
    // and the scheduler sees it. From a debugger's thread (gdb's kill):
    // the session ends.
    if (std::this_thread::get_id() == self)
      m_->hart(s_.cur).request_attention();
    else
      stop();
  };
  if (debug_ && journal_ && journal_->replaying()) {
    std::string why;
    if (m.checkpointable(&why)) ckpts_ = std::make_unique<machine::Checkpoints>(m);
    else
      fmt::print(stderr, "coremu: replay: no reverse execution: {}\n", why);
    reverse_ok_.store(ckpts_ != nullptr);
  }
  int status = 0;
  if (!debug_) {
    StopEvent ev = advance(Limits{});
    status = m.shutdown_status().value_or(0);
    if (ev.reason == StopReason::kDivergence) end_note_ = divergence_;
    if (ev.reason == StopReason::kStep) end_note_ = "stopped at position " + std::to_string(pos_);
  } else {
    bool go = !start_paused_;
    {
      std::lock_guard<std::mutex> lk(mu_);
      started_ = true;
      cv_.notify_all();
    }
    for (;;) {
      Cmd c;
      if (go) {
        go = false;
      } else {
        std::unique_lock<std::mutex> lk(mu_);
        parked_ = true;
        pause_req_.store(false);
        cv_.notify_all();
        cv_.wait(lk, [&] { return cmd_.has_value() || stop_.load(); });
        if (stop_.load()) break;
        c = *cmd_;
        cmd_.reset();
        parked_ = false;
      }
      StopEvent ev = execute(c);
      if (ev.reason == StopReason::kExited && ckpts_) ev.reason = StopReason::kReplayEnd;  // may still run backwards
      std::lock_guard<std::mutex> lk(mu_);
      if (ev.reason == StopReason::kExited || stop_.load()) {
        events_.push_back(ev);
        cv_.notify_all();
        break;
      }
      events_.push_back(ev);
      cv_.notify_all();
    }
    status = m.shutdown_status().value_or(0);
    std::lock_guard<std::mutex> lk(mu_);
    finished_ = true;
    parked_ = false;
    cv_.notify_all();
  }
  m.on_shutdown = nullptr;
  for (unsigned i = 0; i < n_; ++i) m.hart(i).set_interrupt_observer(nullptr);
  // The checkpoints belong to this machine, which may go before this runner.
  ck_.clear();
  ckpts_.reset();
  return status;
}

// ---- debugger control ----------------------------------------------------------------------

void DetRunner::enable_debug(bool start_paused) {
  debug_ = true;
  start_paused_ = start_paused;
}

bool DetRunner::pause_all() {
  std::unique_lock<std::mutex> lk(mu_);
  if (!debug_) return false;
  cv_.wait_for(lk, std::chrono::seconds(30), [&] { return started_ || finished_; });
  if (!started_ || finished_) return false;
  if (parked_) return true;
  pause_req_.store(true);
  if (m_) m_->hart(cur_hart_.load(std::memory_order_relaxed)).request_attention();
  {
    std::lock_guard<std::mutex> ilk(in_mu_);
    in_cv_.notify_all();
  }
  cv_.wait_for(lk, std::chrono::seconds(30), [&] { return parked_ || finished_; });
  // The stop the scheduler posted for this pause is not one to report, nor
  // is a hit not reported yet: continuing runs into it again (not over it).
  for (const StopEvent& ev : events_)
    if (ev.hart < reported_pc_.size() && ev.reason != StopReason::kPaused) reported_pc_[ev.hart] = ~0ull;
  events_.clear();
  return parked_;
}

bool DetRunner::all_parked() {
  std::lock_guard<std::mutex> lk(mu_);
  return parked_;
}

void DetRunner::resume(const std::vector<HartAction>& actions, uint64_t steps) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!parked_ || actions.size() != n_) return;
  Cmd c;
  bool any = false;
  for (unsigned i = 0; i < n_ && !any; ++i)
    if (actions[i] == HartAction::kStep) {
      c = {Cmd::kStep, i, steps};
      any = true;
    }
  if (!any && std::find(actions.begin(), actions.end(), HartAction::kContinue) != actions.end()) {
    c = {Cmd::kContinue, 0, 0};
    any = true;
  }
  if (!any) return;
  cmd_ = c;
  parked_ = false;
  cv_.notify_all();
}

bool DetRunner::can_reverse() const { return reverse_ok_.load(); }

void DetRunner::reverse(const std::vector<HartAction>& actions, uint64_t steps) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!parked_ || actions.size() != n_ || !ckpts_) return;
  Cmd c{Cmd::kReverseContinue, 0, 0};
  for (unsigned i = 0; i < n_; ++i)
    if (actions[i] == HartAction::kStep) {
      c = {Cmd::kReverseStep, i, steps};
      break;
    }
  cmd_ = c;
  parked_ = false;
  cv_.notify_all();
}

bool DetRunner::go_to(Position p, std::string& err) {
  std::lock_guard<std::mutex> lk(mu_);
  if (!parked_) {
    err = "the machine is running";
    return false;
  }
  if (!ckpts_ && p.steps < pos_) {
    err = "cannot go back: this is not a replay with checkpoints";
    return false;
  }
  cmd_ = Cmd{Cmd::kGoto, 0, p.steps};
  parked_ = false;
  cv_.notify_all();
  return true;
}

std::optional<StopEvent> DetRunner::wait_stop(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lk(mu_);
  cv_.wait_for(lk, timeout, [&] { return !events_.empty(); });
  if (events_.empty()) return std::nullopt;
  StopEvent ev = events_.front();
  events_.pop_front();
  return ev;
}

HartRunState DetRunner::state(unsigned hart) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (hart >= n_) return HartRunState::kStopped;
  return parked_ || finished_ ? HartRunState::kStopped : HartRunState::kRunning;
}

void DetRunner::stop() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (m_ && started_ && !parked_ && !finished_) m_->hart(cur_hart_.load(std::memory_order_relaxed)).request_attention();
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> ilk(in_mu_);
  in_cv_.notify_all();
}

}  // namespace coremu

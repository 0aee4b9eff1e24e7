// The shared translation cache: lookup, translation, linking, logs.
#include "rv64/jit/translator.h"

#include <unistd.h>

#include <Zydis/Zydis.h>

#include <chrono>
#include <cstring>
#include <stdexcept>

#include "rv64/hart.h"
#include "rv64/jit/code_buffer.h"
#include "rv64/jit/emitter.h"

namespace rv64::jit {

namespace {
constexpr size_t kDataChunk = size_t{1} << 20;
constexpr size_t kMaxBlockCode = size_t{64} << 10;  // far more than a 64-instruction block needs
constexpr unsigned kProbes = 64;

unsigned slot_of(uint64_t pa, unsigned bits) {
  uint64_t h = (pa >> 1) * 0x9e3779b97f4a7c15ull;
  return static_cast<unsigned>(h >> (64 - bits));
}
}  // namespace

// What a block copy looks like to the translator (Hart::Block is private
// to the hart; the translator is its friend).
struct BlockView {
  static size_t bytes(const void* b) {
    auto* blk = static_cast<const Hart::Block*>(b);
    return offsetof(Hart::Block, insns) + blk->n * sizeof(Insn);
  }
  static const Hart::Block& of(const void* b) { return *static_cast<const Hart::Block*>(b); }
  // A copy of b in the translator's memory, not yet run and not yet
  // translated. Only b's immutable parts are read: it may be a shared
  // block whose run count other harts are updating.
  static Hart::Block* copy(Translator& tr, const void* b) {
    const Hart::Block& src = of(b);
    auto* dst = static_cast<Hart::Block*>(tr.alloc_data(bytes(b)));
    dst->pa = src.pa;
    dst->va = src.va;
    dst->genp = src.genp;
    dst->gen = src.gen;
    dst->n = src.n;
    dst->spin = src.spin;
    dst->no_jit = false;
    dst->execs = 0;
    dst->jit = nullptr;
    std::memcpy(static_cast<void*>(dst->insns), src.insns, src.n * sizeof(Insn));
    return dst;
  }
};

Translator::Translator(Options opt)
    : opt_(opt), buf_(std::make_unique<CodeBuffer>(opt.cache_bytes)),
      table_(new std::atomic<const Translation*>[size_t{1} << kTableBits]()) {
  size_t exit_off = 0;
  EmitResult r = Emitter::trampolines(buf_->rw(), buf_->rx(), 4096, exit_off);
  if (!r.ok) throw std::runtime_error("translation cache: cannot emit the entry trampoline");
  enter_ = reinterpret_cast<void (*)(Hart*, uint64_t, const uint8_t*)>(const_cast<uint8_t*>(buf_->rx()));
  exit_ = buf_->rx() + exit_off;
  used_ = (r.size + 63) & ~size_t{63};
  if (opt_.perf_map) {
    std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
    perf_map_ = std::fopen(path.c_str(), "a");
    if (perf_map_) std::fprintf(perf_map_, "%lx %zx coremu_jit_trampoline\n",
                                reinterpret_cast<unsigned long>(buf_->rx()), r.size);
  }
}

Translator::~Translator() {
  if (perf_map_) std::fclose(perf_map_);
}

void* Translator::alloc_data(size_t bytes) {
  bytes = (bytes + 15) & ~size_t{15};
  if (data_chunks_.empty() || data_used_ + bytes > kDataChunk) {
    data_chunks_.push_back(std::make_unique<uint8_t[]>(bytes > kDataChunk ? bytes : kDataChunk));
    data_used_ = 0;
  }
  void* p = data_chunks_.back().get() + data_used_;
  data_used_ += bytes;
  data_bytes_ += bytes;
  return p;
}

const Translation* Translator::lookup(uint64_t pa) const {
  const unsigned mask = (1u << kTableBits) - 1;
  unsigned s = slot_of(pa, kTableBits);
  for (unsigned k = 0; k < kProbes; ++k, s = (s + 1) & mask) {
    const Translation* t = table_[s].load(std::memory_order_acquire);
    if (t == nullptr) return nullptr;
    if (t->pa == pa) return t;
  }
  return nullptr;
}

void Translator::publish(const Translation* t) {
  const unsigned mask = (1u << kTableBits) - 1;
  unsigned s = slot_of(t->pa, kTableBits);
  for (unsigned k = 0; k < kProbes; ++k, s = (s + 1) & mask) {
    const Translation* old = table_[s].load(std::memory_order_relaxed);
    if (old == nullptr || old->pa == t->pa) {
      if (old == nullptr) ++entries_;
      table_[s].store(t, std::memory_order_release);
      return;
    }
  }
  // No free slot near: the translation serves the hart that made it only.
}

const Translation* Translator::find(uint64_t pa) const {
  const Translation* t = lookup(pa);
  if (t == nullptr || t->genp == nullptr || t->genp->load(std::memory_order_acquire) != t->gen) return nullptr;
  return t;
}

bool Translator::same_code(const void* a, const void* b) {
  const Hart::Block& x = BlockView::of(a);
  const Hart::Block& y = BlockView::of(b);
  if (x.n != y.n) return false;
  for (unsigned k = 0; k < x.n; ++k)
    if (x.insns[k].raw != y.insns[k].raw || x.insns[k].len != y.insns[k].len) return false;
  return true;
}

void Translator::stale(const Translation* t) {
  // Its bytes changed behind the page's generation (see Hart::holds): move
  // the generation on, so that every hart drops what it made of them.
  const_cast<std::atomic<uint32_t>*>(t->genp)->fetch_add(1, std::memory_order_acq_rel);
}

void* Translator::share(const void* block) {
  const Hart::Block& b = BlockView::of(block);
  std::lock_guard<std::mutex> lk(mu_);
  if (const Translation* t = lookup(b.pa);
      t && t->genp == b.genp && t->gen == b.gen && t->genp->load(std::memory_order_acquire) == t->gen) {
    if (same_code(t->block, block)) return const_cast<void*>(t->block);  // another hart was first
    stale(t);
    return nullptr;
  }
  if (data_bytes_ > opt_.cache_bytes) return nullptr;
  Hart::Block* copy = BlockView::copy(*this, block);
  copy->no_jit = b.spin;  // spin blocks stay interpreted (Hart::build_block)
  auto* t = static_cast<Translation*>(alloc_data(sizeof(Translation)));
  *t = Translation{b.pa, b.genp, b.gen, b.n, nullptr, 0, copy};
  publish(t);
  ++stats_.shared_blocks;
  return copy;
}

const Translation* Translator::translate(const Hart& h, const void* block) {
  const Hart::Block& b = BlockView::of(block);
  auto fresh = [&](const Translation* t) {
    return t && t->code && t->gen == b.gen && t->genp == b.genp && t->n == b.n;
  };
  if (const Translation* t = lookup(b.pa); fresh(t) && (t->block == block || same_code(t->block, block))) return t;
  if (b.genp == nullptr) return nullptr;  // ROM: its bytes have no generation to check

  std::lock_guard<std::mutex> lk(mu_);
  const Translation* prev = lookup(b.pa);
  if (fresh(prev)) {
    if (prev->block == block || same_code(prev->block, block)) return prev;  // another hart was first
    stale(prev);
    return nullptr;
  }
  if (stats_.full) return nullptr;
  auto t0 = std::chrono::steady_clock::now();
  size_t room = buf_->size() - used_;
  if (room < kMaxBlockCode) {
    stats_.full = true;
    return nullptr;
  }
  // The code's helpers see a block that lives as long as the code: the
  // shared one if `block` is it, else a copy (the hart's own block cache
  // may drop its block at any time).
  const void* shared = block;
  if (!(prev && prev->block == block)) shared = BlockView::copy(*this, block);
  EmitResult r = Emitter::block(*this, shared, buf_->rw() + used_, buf_->rx() + used_, kMaxBlockCode, exit_);
  if (!r.ok) return nullptr;
  auto* t = static_cast<Translation*>(alloc_data(sizeof(Translation)));
  *t = Translation{b.pa, b.genp, b.gen, b.n, buf_->rx() + used_, r.size, shared};
  used_ += (r.size + 15) & ~size_t{15};
  // Harts that find the shared block run its translation from now on.
  __atomic_store_n(&static_cast<Hart::Block*>(const_cast<void*>(shared))->jit, t, __ATOMIC_RELEASE);
  publish(t);
  ++stats_.translations;
  stats_.code_bytes += r.size;
  stats_.guest_insns += b.n;
  stats_.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_translation(h, *t);
  return t;
}

void Translator::execute(Hart& h, const Translation& t, uint64_t budget) const { enter_(&h, budget, t.code); }

Stats Translator::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  return stats_;
}

void Translator::log_translation(const Hart& h, const Translation& t) {
  if (perf_map_) {
    std::fprintf(perf_map_, "%lx %zx coremu_pa_%llx\n", reinterpret_cast<unsigned long>(t.code), t.code_size,
                 static_cast<unsigned long long>(t.pa));
    std::fflush(perf_map_);
  }
  if (!opt_.log_in_asm && !opt_.log_out_asm) return;
  std::FILE* out = opt_.log ? opt_.log : stderr;
  const Hart::Block& b = BlockView::of(t.block);
  if (opt_.log_in_asm) {
    std::fprintf(out, "IN: hart %u pc 0x%016llx pa 0x%llx (%u insns)\n", h.hartid(),
                 static_cast<unsigned long long>(h.pc), static_cast<unsigned long long>(t.pa), t.n);
    uint64_t pc = h.pc;
    for (unsigned i = 0; i < b.n; ++i) {
      const Insn& in = b.insns[i];
      std::fprintf(out, "0x%016llx:  %0*x  %s\n", static_cast<unsigned long long>(pc), in.len * 2, in.raw,
                   disassemble(in, pc).c_str());
      pc += in.len;
    }
    std::fprintf(out, "\n");
  }
  if (opt_.log_out_asm) {
    std::fprintf(out, "OUT: [size=%zu]\n", t.code_size);
    ZyanUSize off = 0;
    ZydisDisassembledInstruction d;
    while (off < t.code_size &&
           ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, reinterpret_cast<ZyanU64>(t.code + off),
                                              t.code + off, t.code_size - off, &d))) {
      std::fprintf(out, "  0x%016llx:  %s\n", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(t.code + off)),
                   d.text);
      off += d.info.length;
    }
    std::fprintf(out, "\n");
  }
  std::fflush(out);
}

}  // namespace rv64::jit

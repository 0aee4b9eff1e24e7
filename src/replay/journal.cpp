#include "replay/journal.h"

#include <fmt/core.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace replay {

uint64_t hash_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw LogError(fmt::format("cannot read '{}': {}", path, std::strerror(errno)));
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) XXH3_64bits_update(st, buf.data(), n);
  bool err = std::ferror(f);
  std::fclose(f);
  uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  if (err) throw LogError(fmt::format("cannot read '{}'", path));
  return h;
}

std::vector<ImageInfo> machine_images(const machine::MachineConfig& cfg) {
  std::vector<ImageInfo> out;
  auto add = [&](const std::string& role, const std::string& path) {
    if (path.empty()) return;
    ImageInfo i;
    i.role = role;
    i.path = path;
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f) {
      std::fseek(f, 0, SEEK_END);
      long sz = std::ftell(f);
      i.size = sz > 0 ? static_cast<uint64_t>(sz) : 0;
      std::fclose(f);
    }
    i.hash = hash_file(path);
    out.push_back(i);
  };
  if (cfg.bios != "none" && cfg.bios != "default") add("bios", cfg.bios);
  add("kernel", cfg.kernel);
  add("initrd", cfg.initrd);
  add("dtb", cfg.dtb);
  for (size_t k = 0; k < cfg.drives.size(); ++k) add(fmt::format("drive {}", cfg.drives[k].id), cfg.drives[k].file);
  return out;
}

void check_images(const Header& h, const machine::MachineConfig& cfg) {
  std::vector<ImageInfo> now = machine_images(cfg);
  for (const ImageInfo& rec : h.images) {
    const ImageInfo* cur = nullptr;
    for (const ImageInfo& n : now)
      if (n.role == rec.role) cur = &n;
    if (!cur)
      throw LogError(fmt::format("the log was recorded with a {} image ('{}') that the replayed machine lacks",
                                 rec.role, rec.path));
    if (cur->hash != rec.hash || cur->size != rec.size)
      throw LogError(fmt::format("{} image '{}' is not the one recorded (recorded: {} bytes, hash {:016x}; now: {} "
                                 "bytes, hash {:016x}): refusing to replay against other images",
                                 rec.role, cur->path, rec.size, rec.hash, cur->size, cur->hash));
  }
}

// ---- record ----------------------------------------------------------------------

Recorder::Recorder(const std::string& path, const Header& h) : w_(path, h), last_flush_(std::chrono::steady_clock::now()) {}

void Recorder::input(uint64_t slice, const uint8_t* data, size_t len) {
  Record r;
  r.kind = Record::kInput;
  r.slice = slice;
  r.bytes.assign(data, data + len);
  w_.add(r);
  w_.flush(slice);  // input is rare and precious: on disk before the guest sees it
  last_flush_ = std::chrono::steady_clock::now();
}

std::string Recorder::interrupt(uint64_t slice, const rv64::Hart& h, uint64_t cause) {
  Record r;
  r.kind = Record::kInterrupt;
  r.slice = slice;
  r.hart = h.hartid();
  r.icount = h.icount();
  r.steps = h.steps();
  r.cause = cause;
  w_.add(r);
  ++interrupts_;
  return {};
}

std::string Recorder::digest(uint64_t slice, uint64_t pos, const std::vector<std::pair<uint64_t, uint64_t>>& harts,
                             const std::vector<uint64_t>&) {
  // Only the harts that ran since the previous digest: a hart asleep or
  // waiting its turn costs nothing in the log (255 harts x 16 bytes per
  // digest made digests most of a 255-hart log).
  Record r;
  r.kind = Record::kDigest;
  r.slice = slice;
  r.global_steps = pos;
  if (last_steps_.size() != harts.size()) last_steps_.assign(harts.size(), ~0ull);
  bool all = true;
  for (size_t i = 0; i < harts.size(); ++i) {
    if (harts[i].first == last_steps_[i]) {
      all = false;
      continue;
    }
    last_steps_[i] = harts[i].first;
    r.harts.push_back(harts[i]);
    r.digest_harts.push_back(uint32_t(i));
  }
  if (all) r.digest_harts.clear();
  r.digest = XXH3_64bits(r.harts.data(), r.harts.size() * sizeof(r.harts[0]));
  w_.add(r);
  ++digests_;
  return {};
}

void Recorder::sync(uint64_t slice, bool now_) {
  // Between slices every record of the slices before is written: a chunk
  // ending here lets a killed recording replay up to slice - 1.
  auto now = std::chrono::steady_clock::now();
  if (slice > 0 && (now_ || now - last_flush_ > std::chrono::milliseconds(200))) {
    w_.flush(slice - 1);
    last_flush_ = now;
  }
}

void Recorder::finish(uint64_t slice, int status, uint64_t pos, uint64_t final_digest) {
  Record r;
  r.kind = Record::kEnd;
  r.slice = slice;
  r.exit_status = status;
  r.global_steps = pos;
  r.digest = final_digest;
  w_.finish(r);
}

// ---- replay -----------------------------------------------------------------------

Replayer::Replayer(LogReader& r) {
  while (auto rec = r.next()) {
    switch (rec->kind) {
      case Record::kInput: {
        auto& v = inputs_[rec->slice];
        v.insert(v.end(), rec->bytes.begin(), rec->bytes.end());
        break;
      }
      case Record::kInterrupt:
        irqs_.push_back(std::move(*rec));
        break;
      case Record::kDigest:
        digests_[rec->slice] = std::move(*rec);
        break;
      case Record::kEnd:
        end_ = std::move(*rec);
        has_end_ = true;
        break;
    }
  }
  truncated_ = r.truncated();
  if (truncated_) covered_ = r.covered_slice();
}

std::vector<uint8_t> Replayer::input_for(uint64_t slice) {
  auto it = inputs_.find(slice);
  return it == inputs_.end() ? std::vector<uint8_t>{} : it->second;
}

bool Replayer::has_more(uint64_t slice) { return inputs_.lower_bound(slice) != inputs_.end(); }

std::string Replayer::interrupt(uint64_t slice, const rv64::Hart& h, uint64_t cause) {
  if (next_irq_ >= irqs_.size()) {
    if (truncated_) return {};  // the log ends before this point
    return fmt::format("divergence at slice {}: hart {} took interrupt {} at icount {}, which the recording does not "
                       "have", slice, h.hartid(), cause & 0xff, h.icount());
  }
  const Record& r = irqs_[next_irq_++];
  if (r.slice == slice && r.hart == h.hartid() && r.icount == h.icount() && r.steps == h.steps() && r.cause == cause)
    return {};
  return fmt::format("divergence at slice {}: hart {} took interrupt {} at icount {}; the recording has hart {} "
                     "taking interrupt {} at icount {} (slice {})",
                     slice, h.hartid(), cause & 0xff, h.icount(), r.hart, r.cause & 0xff, r.icount, r.slice);
}

std::string Replayer::digest(uint64_t slice, uint64_t pos, const std::vector<std::pair<uint64_t, uint64_t>>& harts,
                             const std::vector<uint64_t>& icounts) {
  auto it = digests_.find(slice);
  if (it == digests_.end()) return {};
  const Record& r = it->second;
  if (r.global_steps != pos)
    return fmt::format("divergence at slice {}: the machine is at position {}, the recording's digest at position {}",
                       slice, pos, r.global_steps);
  for (size_t k = 0; k < r.harts.size(); ++k) {
    size_t i = r.digest_harts.empty() ? k : r.digest_harts[k];
    if (i >= harts.size() || r.harts[k] != harts[i])
      return fmt::format("divergence at slice {} (position {}): hart {} at icount {} (step {}) differs from the "
                         "recording (step {}): its state digest is {:016x}, recorded {:016x}",
                         slice, pos, i, i < icounts.size() ? icounts[i] : 0, i < harts.size() ? harts[i].first : 0,
                         r.harts[k].first, i < harts.size() ? harts[i].second : 0, r.harts[k].second);
  }
  return {};
}

}  // namespace replay

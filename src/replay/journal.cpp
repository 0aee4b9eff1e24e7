#include "replay/journal.h"

#include <fmt/core.h>
#include <xxhash.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "machine/loader.h"

namespace replay {

std::string shown(std::string_view s) {
  constexpr size_t kMax = 300;
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

namespace {

constexpr size_t kHashBlock = size_t{1} << 20;

// The next offset >= off that holds data (SEEK_DATA), `size` if only a hole
// follows, `off` if the file system cannot say.
uint64_t next_data(int fd, uint64_t off, uint64_t size) {
  off_t d = ::lseek(fd, static_cast<off_t>(off), SEEK_DATA);
  if (d >= 0) return static_cast<uint64_t>(d);
  return errno == ENXIO ? size : off;
}

}  // namespace

ImageHash hash_image(const std::string& path, const std::string& role) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not hang open()
  if (fd < 0) throw LogError(fmt::format("cannot read {} image '{}': {}", shown(role), shown(path), std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    std::string what = ::fstat(fd, &st) != 0 ? std::strerror(errno) : machine::file_kind(st.st_mode);
    ::close(fd);
    throw LogError(fmt::format("{} image '{}' is {}: images are hashed, and must be regular files", shown(role), shown(path),
                               what));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  const auto size = static_cast<uint64_t>(st.st_size);
  // The allocated bytes, for the note below (st_blocks counts 512-byte units).
  const uint64_t allocated = std::min<uint64_t>(size, static_cast<uint64_t>(st.st_blocks) * 512);
  const bool big = allocated > (uint64_t{1} << 30) || size > (uint64_t{16} << 30);
  if (big)
    fmt::print(stderr, "coremu: hashing {} image '{}': {:.1f} GiB, {:.1f} GiB of them allocated (holes are not "
               "read)\n", shown(role), shown(path), double(size) / double(1ull << 30), double(allocated) / double(1ull << 30));
  // Progress on a terminal, for images with much data to read.
  const bool progress = big && allocated > (uint64_t{1} << 30) && ::isatty(STDERR_FILENO);
  uint64_t read_bytes = 0, shown_at = 0;
  static const std::vector<uint8_t> zeros(kHashBlock, 0);
  static const uint64_t zero_block = XXH3_64bits(zeros.data(), zeros.size());
  std::vector<uint8_t> buf(kHashBlock);
  XXH3_state_t* st3 = XXH3_createState();
  if (!st3) throw std::bad_alloc();
  XXH3_64bits_reset_withSeed(st3, size);
  uint64_t data_at = next_data(fd, 0, size);
  std::string err;
  for (uint64_t off = 0; off < size && err.empty();) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kHashBlock, size - off));
    uint64_t h;
    if (data_at >= off + n) {  // a hole: zeros, known without reading
      h = n == kHashBlock ? zero_block : XXH3_64bits(zeros.data(), n);
    } else {
      size_t got = 0;
      while (got < n) {
        ssize_t r = ::pread(fd, buf.data() + got, n - got, static_cast<off_t>(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          err = r < 0 ? std::strerror(errno) : "it shrank while it was read";
          break;
        }
        got += static_cast<size_t>(r);
      }
      h = XXH3_64bits(buf.data(), n);
      read_bytes += n;
      if (progress && read_bytes - shown_at >= (uint64_t{256} << 20)) {
        shown_at = read_bytes;
        fmt::print(stderr, "\rcoremu: hashed {:.1f} of {:.1f} GiB", double(read_bytes) / double(1ull << 30),
                   double(allocated) / double(1ull << 30));
      }
    }
    uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(h >> (8 * i));
    XXH3_64bits_update(st3, le, sizeof le);
    off += n;
    if (data_at < off) data_at = next_data(fd, off, size);
  }
  ::close(fd);
  if (progress && shown_at) fmt::print(stderr, "\n");
  uint64_t h = XXH3_64bits_digest(st3);
  XXH3_freeState(st3);
  if (!err.empty()) throw LogError(fmt::format("cannot read {} image '{}': {}", shown(role), shown(path), err));
  return {size, h};
}

uint64_t hash_file(const std::string& path) { return hash_image(path, "an").hash; }

std::vector<ImageInfo> machine_images(const machine::MachineConfig& cfg) {
  std::vector<ImageInfo> out;
  auto add = [&](const std::string& role, const std::string& path) {
    if (path.empty()) return;
    ImageInfo i;
    i.role = role;
    i.path = path;
    ImageHash ih = hash_image(path, role);
    i.size = ih.size;
    i.hash = ih.hash;
    out.push_back(i);
  };
  if (cfg.bios != "none" && cfg.bios != "default") add("bios", cfg.bios);
  add("kernel", cfg.kernel);
  add("initrd", cfg.initrd);
  add("dtb", cfg.dtb);
  for (size_t k = 0; k < cfg.drives.size(); ++k) add(fmt::format("drive {}", cfg.drives[k].id), cfg.drives[k].file);
  return out;
}

namespace {

// What machine_images() lists for `cfg`: role and path, without hashing.
std::vector<std::pair<std::string, std::string>> wanted_images(const machine::MachineConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> wanted;
  if (cfg.bios != "none" && cfg.bios != "default") wanted.emplace_back("bios", cfg.bios);
  if (!cfg.kernel.empty()) wanted.emplace_back("kernel", cfg.kernel);
  if (!cfg.initrd.empty()) wanted.emplace_back("initrd", cfg.initrd);
  if (!cfg.dtb.empty()) wanted.emplace_back("dtb", cfg.dtb);
  for (const auto& d : cfg.drives) wanted.emplace_back(fmt::format("drive {}", d.id), d.file);
  return wanted;
}

const ImageInfo* recorded_image(const Header& h, const std::string& role) {
  const ImageInfo* found = nullptr;
  for (const ImageInfo& rec : h.images)
    if (rec.role == role) {
      if (found) throw LogError(fmt::format("its image list names the {} image twice", shown(role)));
      found = &rec;
    }
  return found;
}

}  // namespace

void check_header_values(const Header& h) {
  auto bad = [&](const std::string& what) {
    throw LogError(fmt::format("its header has {}: refused (was the log edited?)", what));
  };
  if (h.quantum == 0 || h.quantum > (1ull << 40)) bad(fmt::format("a quantum of {} steps (1 to 2^40)", h.quantum));
  if (h.digest_interval == 0 || h.digest_interval > (1ull << 32))
    bad(fmt::format("a digest interval of {} slices (1 to 2^32)", h.digest_interval));
  if (!h.chaos && h.chaos_seed != 0) bad("a chaos seed without chaos");
}

void check_image_list(const Header& h, const machine::MachineConfig& cfg) {
  // Every image the log's options load must be in its image list, with the
  // same path: an image without a recorded hash is not checked at all.
  auto wanted = wanted_images(cfg);
  for (const auto& [role, path] : wanted) {
    const ImageInfo* rec = recorded_image(h, role);
    if (!rec || rec->path != path)
      throw LogError(fmt::format("its options load {} image '{}', which its image list does not have with a hash: "
                                 "refusing to load an image the recording cannot vouch for",
                                 shown(role), shown(path)));
  }
  for (const ImageInfo& rec : h.images) {
    bool used = false;
    for (const auto& w : wanted) used |= w.first == rec.role;
    if (!used)
      throw LogError(fmt::format("the log was recorded with a {} image ('{}') that the replayed machine lacks",
                                 shown(rec.role), shown(rec.path)));
  }
}

void check_images(const Header& h, const machine::MachineConfig& cfg) {
  check_image_list(h, cfg);
  for (const auto& [role, path] : wanted_images(cfg)) {
    const ImageInfo* rec = recorded_image(h, role);
    ImageHash now = hash_image(path, role);
    if (now.hash != rec->hash || now.size != rec->size)
      throw LogError(fmt::format("{} image '{}' is not the one recorded (recorded: {} bytes, hash {:016x}; now: {} "
                                 "bytes, hash {:016x}): refusing to replay against other images",
                                 shown(role), shown(path), rec->size, rec->hash, now.size, now.hash));
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

Replayer::Replayer(LogReader& r, uint64_t memory_budget) {
  if (memory_budget == 0) {
    long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? uint64_t(pages) * uint64_t(page) : 0;
    memory_budget = std::max<uint64_t>(phys / 4, uint64_t{256} << 20);
  }
  uint64_t used = 0;  // an estimate of what the records below take, map nodes included
  auto account = [&](uint64_t bytes) {
    used += bytes;
    if (used > memory_budget)
      throw LogError(fmt::format("its records need more than {} MiB of memory to replay (a small log can hold "
                                 "that much when its records repeat): refused",
                                 memory_budget >> 20));
  };
  while (auto rec = r.next()) {
    switch (rec->kind) {
      case Record::kInput: {
        auto [it, fresh] = inputs_.try_emplace(rec->slice);
        account(rec->bytes.size() + (fresh ? 80 : 0));
        it->second.insert(it->second.end(), rec->bytes.begin(), rec->bytes.end());
        break;
      }
      case Record::kInterrupt:
        account(sizeof(Irq));
        irqs_.push_back({rec->slice, rec->icount, rec->steps, rec->cause, rec->hart});
        break;
      case Record::kDigest:
        account(rec->harts.size() * sizeof(rec->harts[0]) + sizeof(Record) + 64);
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
  const Irq& r = irqs_[next_irq_++];
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

// logedit: rewrites a replay log as an attacker (or a careless editor)
// would, with every checksum made right again, for tests/replay/safety_test.py.
// It reads LOG with replay::LogReader and writes OUT with replay::LogWriter,
// so the result is a well-formed log whose content is whatever was asked:
//
//   logedit IN OUT [EDIT]...
//     --args A B ... --          replace the stored options
//     --add-args A B ... --      append to them
//     --clear-images             drop the image list
//     --image-path ROLE PATH     point the image ROLE at PATH (size and hash kept)
//     --add-image ROLE PATH SIZE HASH   add an image (HASH in hex)
//     --quantum N | --digest-interval N | --chaos-seed N
//     --drop-end                 leave out the end record (the last chunk still covers its slice)
//     --end-status N | --end-steps N | --end-slice N | --end-digest HEX
//     --print                    print the header (args, images) and exit
//
// Exit status 0, or 1 with a message.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "replay/log.h"

namespace {

[[noreturn]] void die(const std::string& m) {
  std::fprintf(stderr, "logedit: %s\n", m.c_str());
  std::exit(1);
}

uint64_t num(const std::string& s, int base = 10) {
  char* end = nullptr;
  uint64_t v = std::strtoull(s.c_str(), &end, base);
  if (s.empty() || *end) die("not a number: " + s);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() < 2) die("usage: logedit IN OUT [EDIT]...");
  try {
    replay::LogReader in(a[0]);
    replay::Header h = in.header();
    bool drop_end = false;
    std::vector<std::pair<std::string, std::string>> end_edits;
    for (size_t i = 2; i < a.size(); ++i) {
      auto next = [&]() -> const std::string& {
        if (i + 1 >= a.size()) die(a[i] + " needs an argument");
        return a[++i];
      };
      const std::string& w = a[i];
      if (w == "--print") {
        for (const auto& s : h.args) std::printf("arg %s\n", s.c_str());
        for (const auto& im : h.images)
          std::printf("image %s %s %llu %016llx\n", im.role.c_str(), im.path.c_str(), (unsigned long long)im.size,
                      (unsigned long long)im.hash);
        return 0;
      } else if (w == "--args" || w == "--add-args") {
        if (w == "--args") h.args.clear();
        for (++i; i < a.size() && a[i] != "--"; ++i) h.args.push_back(a[i]);
      } else if (w == "--clear-images") {
        h.images.clear();
      } else if (w == "--image-path") {
        std::string role = next(), path = next();
        bool found = false;
        for (auto& im : h.images)
          if (im.role == role) im.path = path, found = true;
        if (!found) die("no image " + role);
      } else if (w == "--add-image") {
        replay::ImageInfo im;
        im.role = next();
        im.path = next();
        im.size = num(next());
        im.hash = num(next(), 16);
        h.images.push_back(im);
      } else if (w == "--quantum") {
        h.quantum = num(next());
      } else if (w == "--digest-interval") {
        h.digest_interval = num(next());
      } else if (w == "--chaos-seed") {
        h.chaos_seed = num(next());
      } else if (w == "--drop-end") {
        drop_end = true;
      } else if (w == "--end-status" || w == "--end-steps" || w == "--end-slice" || w == "--end-digest") {
        std::string v = next();
        end_edits.emplace_back(w, v);
      } else {
        die("unknown edit " + w);
      }
    }
    replay::LogWriter out(a[1], h);
    uint64_t last = 0;
    while (auto r = in.next()) {
      if (r->kind == replay::Record::kEnd) {
        if (drop_end) {
          // What a writer killed just before its last record would leave:
          // everything up to the end's slice covered, the end itself missing.
          out.flush(r->slice);
          return 0;
        }
        for (const auto& [k, v] : end_edits) {
          if (k == "--end-status") r->exit_status = static_cast<int32_t>(std::strtol(v.c_str(), nullptr, 10));
          if (k == "--end-steps") r->global_steps = num(v);
          if (k == "--end-slice") r->slice = num(v);
          if (k == "--end-digest") r->digest = num(v, 16);
        }
        out.finish(*r);
        return 0;
      }
      last = r->slice;
      out.add(*r);
    }
    out.flush(last);
  } catch (const std::exception& e) {
    die(e.what());
  }
  return 0;
}

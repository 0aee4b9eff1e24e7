/* A small, bounds-checked walker over a flattened device tree's structure
 * block (no libfdt), and what the guests ask of it: the number of harts
 * (the nodes named cpu@<n> directly under /cpus) and a property of a node
 * at the top level (bench/bench.c: /chosen/bootargs). */
#include "guest.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u

static uint32_t be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int fdt_name_is(const char *s, const char *want, int prefix_only) {
  while (*want) {
    if (*s++ != *want++) return 0;
  }
  return prefix_only || *s == 0 || *s == '@';
}

int fdt_walk(const void *fdt, fdt_visit_fn visit, void *ctx) {
  const uint8_t *base = (const uint8_t *)fdt;
  /* The tree must be in RAM and aligned. */
  if (!base || ((uintptr_t)base & 3) || (uintptr_t)base < DRAM_BASE) return -1;
  if (be32(base) != FDT_MAGIC) return -1;
  uint32_t total = be32(base + 4), off_struct = be32(base + 8), off_strings = be32(base + 12);
  uint32_t size_strings = be32(base + 32), size_struct = be32(base + 36);
  if (total > (64u << 20) || off_struct >= total || size_struct > total - off_struct) return -1;
  if (off_strings >= total || size_strings > total - off_strings) return -1;
  const char *strings = (const char *)base + off_strings;

  const uint8_t *p = base + off_struct, *end = p + size_struct;
  int depth = 0;
  while (p + 4 <= end) {
    uint32_t tok = be32(p);
    p += 4;
    if (tok == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      const uint8_t *q = p;
      while (q < end && *q) q++;
      if (q >= end) return -1;
      p = (const uint8_t *)(((uintptr_t)q + 1 + 3) & ~(uintptr_t)3);
      depth++;
      if (visit(ctx, depth, name, 0, 0, 0)) return 0;
    } else if (tok == FDT_END_NODE) {
      if (--depth < 0) return -1;
    } else if (tok == FDT_PROP) {
      if (p + 8 > end) return -1;
      uint32_t len = be32(p), nameoff = be32(p + 4);
      if (len > (uint32_t)(end - p) - 8) return -1;
      /* A property name must lie in the strings block, NUL included. */
      const char *pname = 0;
      if (nameoff < size_strings) {
        const char *s = strings + nameoff, *send = strings + size_strings;
        while (s < send && *s) s++;
        if (s < send) pname = strings + nameoff;
      }
      if (!pname) return -1;
      if (visit(ctx, depth, 0, pname, p + 8, len)) return 0;
      p += 8 + ((len + 3) & ~3u);
    } else if (tok == FDT_NOP) {
    } else if (tok == FDT_END) {
      break;
    } else {
      return -1;
    }
  }
  return 0;
}

struct count_harts {
  int in_cpus;
  unsigned count;
};

static int count_harts_visit(void *ctx, int depth, const char *node, const char *prop, const uint8_t *val,
                             uint32_t len) {
  struct count_harts *c = ctx;
  (void)prop, (void)val, (void)len;
  if (!node) return 0;
  if (depth == 2) c->in_cpus = fdt_name_is(node, "cpus", 0);
  if (depth == 3 && c->in_cpus && fdt_name_is(node, "cpu@", 1)) c->count++;
  return 0;
}

unsigned fdt_count_harts(const void *fdt) {
  struct count_harts c = {0, 0};
  return fdt_walk(fdt, count_harts_visit, &c) == 0 ? c.count : 0;
}

struct find_prop {
  const char *node, *prop;
  int in_node;
  const uint8_t *val;
  uint32_t len;
};

static int find_prop_visit(void *ctx, int depth, const char *node, const char *prop, const uint8_t *val,
                           uint32_t len) {
  struct find_prop *f = ctx;
  if (node) {
    if (depth == 2) f->in_node = fdt_name_is(node, f->node, 0);
    return 0;
  }
  /* Properties come before a node's children: one at depth 2 is the
     latest depth-2 node's. */
  if (depth == 2 && f->in_node && fdt_name_is(prop, f->prop, 0) && prop[0]) {
    f->val = val;
    f->len = len;
    return 1;
  }
  return 0;
}

const uint8_t *fdt_top_prop(const void *fdt, const char *node, const char *prop, uint32_t *len) {
  struct find_prop f = {node, prop, 0, 0, 0};
  if (fdt_walk(fdt, find_prop_visit, &f) != 0 || !f.val) return 0;
  *len = f.len;
  return f.val;
}

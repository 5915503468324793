/*
** driver.c -- a small mutation fuzzer that runs a harness (fuzz_*.c)
** without libFuzzer: the short run of `make test` (tests/fuzz/run.sh),
** built with gcc's sanitizers.  `make fuzz` uses libFuzzer instead.
**
** usage: driver CORPUS_DIR INPUTS SEED
** Every seed file runs as is, then INPUTS mutants of them, each made by 1
** to 8 edits: bit flips, bytes and 8-byte words set to values that break
** size checks (0, -1, 2^31, 2^32, 2^63, ...), insertions, deletions,
** repeats, truncation, and splices of two seeds.  Deterministic for a seed.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAXFILES = 512, MAXLEN = 1 << 17 };

static uint8_t *seed[MAXFILES];
static size_t seedlen[MAXFILES];
static int nseeds;
static uint64_t rng;

static uint64_t next(void) {   /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ull;
}

static size_t pick(size_t n) { return n ? (size_t)(next() % n) : 0; }

static void load(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[4096];
  if (!d) return;
  while ((e = readdir(d)) && nseeds < MAXFILES) {
    FILE *f;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (!(f = fopen(path, "rb"))) continue;
    seed[nseeds] = malloc(MAXLEN);
    seedlen[nseeds] = fread(seed[nseeds], 1, MAXLEN, f);
    fclose(f);
    nseeds++;
  }
  closedir(d);
}

static const uint64_t words[] = {
  0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
  0x100000000, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff,
  0xfffffffffffffff8, 64, 4096
};

/* one edit of buf (len bytes, at most MAXLEN) */
static size_t mutate(uint8_t *buf, size_t len) {
  size_t i = pick(len), k;
  switch (pick(9)) {
    case 0: if (len) buf[i] ^= (uint8_t)(1u << pick(8)); break;
    case 1: if (len) buf[i] = (uint8_t)next(); break;
    case 2: if (len) buf[i] = (uint8_t)words[pick(5)]; break;
    case 3:   /* a little-endian word, 1 to 8 bytes of it */
      k = 1 + pick(8);
      if (len >= k) {
        uint64_t w = words[pick(sizeof words / sizeof *words)] + pick(3) - 1;
        i = pick(len - k + 1);
        memcpy(buf + i, &w, k);
      }
      break;
    case 4:   /* insert random bytes */
      k = 1 + pick(16);
      if (len + k <= MAXLEN) {
        memmove(buf + i + k, buf + i, len - i);
        for (size_t j = 0; j < k; j++) buf[i + j] = (uint8_t)next();
        len += k;
      }
      break;
    case 5:   /* delete a range */
      k = pick(len - i + 1);
      memmove(buf + i, buf + i + k, len - i - k);
      len -= k;
      break;
    case 6:   /* repeat a range */
      k = pick(len - i + 1);
      if (len + k <= MAXLEN) {
        memmove(buf + i + k, buf + i, len - i);
        len += k;
      }
      break;
    case 7: len = pick(len + 1); break;
    default: {   /* splice: the tail of another seed */
      int s = (int)pick((size_t)nseeds);
      size_t from = pick(seedlen[s] + 1), n = seedlen[s] - from;
      if (i + n > MAXLEN) n = MAXLEN - i;
      memcpy(buf + i, seed[s] + from, n);
      len = i + n;
    }
  }
  return len;
}

int main(int argc, char **argv) {
  static uint8_t buf[MAXLEN];
  long inputs, n;
  int i;
  if (argc < 4) {
    fprintf(stderr, "usage: %s CORPUS_DIR INPUTS SEED\n", argv[0]);
    return 2;
  }
  load(argv[1]);
  inputs = atol(argv[2]);
  rng = (uint64_t)atoll(argv[3]) * 0x9E3779B97F4A7C15ull + 1;
  if (nseeds == 0) {
    fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 2;
  }
  for (i = 0; i < nseeds; i++) LLVMFuzzerTestOneInput(seed[i], seedlen[i]);
  for (n = 0; n < inputs; n++) {
    int s = (int)pick((size_t)nseeds), k, edits = 1 + (int)pick(8);
    size_t len = seedlen[s];
    memcpy(buf, seed[s], len);
    for (k = 0; k < edits; k++) len = mutate(buf, len);
    LLVMFuzzerTestOneInput(buf, len);
  }
  printf("%d seeds, %ld mutants\n", nseeds, inputs);
  for (i = 0; i < nseeds; i++) free(seed[i]);
  return 0;
}

/*
** io_text.c -- columns of numbers as text, the tables gnuplot and
** spreadsheets read: one row per line, fields separated by runs of
** whitespace or by one delimiter character (',' for CSV), comments from a
** comment character to the end of the line.  The header naming the
** columns is the last comment line before the data ("# t E M", gnuplot's
** habit) when it has one name per column, or a first line that is not
** numbers ("t,E,M", a spreadsheet's).
**
** Floats are written with the fewest digits that read back to the same
** bits (15, 16 or 17 significant digits for f64, 6 to 9 for f32), so a
** table round-trips exactly and stays readable: 0.1 is written "0.1", not
** "0.10000000000000001".  Numbers are parsed and printed in the C locale
** whatever the process's locale (a German one would print "0,1").
*/
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "io.h"

static locale_t c_loc;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;
static void make_c_locale(void) { c_loc = newlocale(LC_ALL_MASK, "C", 0); }

/* switches this thread to the C locale; returns the locale to restore */
static locale_t enter_c(void) {
  pthread_once(&c_once, make_c_locale);
  return c_loc ? uselocale(c_loc) : (locale_t)0;
}

static void leave_c(locale_t old) {
  if (old) uselocale(old);
}

/* --- lines and fields ------------------------------------------------------ */

typedef struct table {
  const hebb_src *src;
  const char *p;
  int64_t n;
  char delim, comment;    /* delim 0: runs of spaces and tabs */
  int dtype;
  int64_t rows, cols;
  int64_t header_no;      /* the header's line number (0: none) */
  int64_t first_no;       /* the first data line's number */
} table;

typedef struct line {
  const char *s;          /* the content before any comment */
  int64_t len, no;        /* its length; its number, 1-based */
  const char *note;       /* a comment line: the text after the character */
  int64_t note_len;
} line;

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static void trim(const char **s, int64_t *len) {
  while (*len > 0 && blank(**s)) (*s)++, (*len)--;
  while (*len > 0 && blank((*s)[*len - 1])) (*len)--;
}

/* the next line from *at; false at the end of the text */
static bool next_line(const table *t, int64_t *at, line *l) {
  const char *s, *end, *c;
  if (*at >= t->n) return false;
  s = t->p + *at;
  end = memchr(s, '\n', (size_t)(t->n - *at));
  if (!end) end = t->p + t->n;
  *at = end - t->p + 1;
  l->no++;
  c = t->comment ? memchr(s, t->comment, (size_t)(end - s)) : NULL;
  l->s = s;
  l->len = (c ? c : end) - s;
  trim(&l->s, &l->len);
  l->note = NULL;
  if (c && l->len == 0) {   /* a comment line */
    l->note = c + 1;
    l->note_len = end - c - 1;
    trim(&l->note, &l->note_len);
  }
  return true;
}

/* the next field of s[0..len) from *i: [*a, *a + *b); false when none */
static bool next_field(const table *t, const char *s, int64_t len, int64_t *i,
                       int64_t *a, int64_t *b) {
  int64_t k = *i;
  if (k > len || (k == len && (!t->delim || len == 0))) return false;
  while (k < len && blank(s[k])) k++;
  if (!t->delim && k == len) return false;
  *a = k;
  while (k < len && (t->delim ? s[k] != t->delim : !blank(s[k]))) k++;
  *b = k - *a;
  while (*b > 0 && blank(s[*a + *b - 1])) (*b)--;
  *i = t->delim ? k + 1 : k;
  return true;
}

static int64_t count_fields(const table *t, const char *s, int64_t len) {
  int64_t i = 0, a, b, n = 0;
  while (next_field(t, s, len, &i, &a, &b)) n++;
  return n;
}

/* --- numbers ----------------------------------------------------------------- */

/* the field as a number; false if it is not one */
static bool number(const table *t, const char *s, int64_t len, double *f,
                   int64_t *k) {
  char buf[128], *end;
  if (len == 0 || len >= (int64_t)sizeof buf) return false;
  memcpy(buf, s, (size_t)len);
  buf[len] = '\0';
  errno = 0;
  if (t->dtype == HEBB_I64) *k = strtoll(buf, &end, 10);
  else *f = strtod(buf, &end);
  return !*end && !(t->dtype == HEBB_I64 && errno == ERANGE);
}

/* whether a field holds words, not a number (a number as a float,
   whatever the dtype: an f64 row read as i64 is an error, not a header;
   an empty field is an error too) */
static bool has_words(const table *t, const line *l) {
  table f64 = *t;
  int64_t i = 0, a, b, k;
  double f;
  f64.dtype = HEBB_F64;
  while (next_field(t, l->s, l->len, &i, &a, &b))
    if (b > 0 && !number(&f64, l->s + a, b, &f, &k)) return true;
  return false;
}

static int not_number(const table *t, const line *l, int64_t col, int64_t a,
                      int64_t b) {
  if (b == 0)
    return hebb_fail(HEBB_ERR_IO, "%s: %s, line %lld: column %lld is empty",
                     t->src->who, t->src->label, (long long)l->no,
                     (long long)col);
  return hebb_fail(HEBB_ERR_IO, "%s: %s, line %lld: column %lld, \"%.*s\", "
                   "is not %s", t->src->who, t->src->label, (long long)l->no,
                   (long long)col, (int)(b < 40 ? b : 40), l->s + a,
                   t->dtype == HEBB_I64 ? "an integer in i64's range" :
                   "a number");
}

/* --- the two passes ---------------------------------------------------------- */

/* first pass: the width of every row and the number of rows, and which
   line is the header */
static int measure(table *t) {
  line l = {0}, note = {0};
  int64_t at = 0, w;
  while (next_line(t, &at, &l)) {
    if (l.note) note = l;
    if (l.len == 0) continue;
    w = count_fields(t, l.s, l.len);
    if (!t->first_no && !t->header_no && has_words(t, &l)) {
      t->header_no = l.no;   /* a spreadsheet's names */
      t->cols = w;
      continue;
    }
    if (!t->first_no) {
      t->first_no = l.no;
      if (!t->header_no) {
        t->cols = w;
        if (note.no && count_fields(t, note.note, note.note_len) == w)
          t->header_no = note.no;
      }
    }
    if (w != t->cols)
      return hebb_fail(HEBB_ERR_IO, "%s: %s, line %lld: %lld columns, but "
                       "%s %lld has %lld", t->src->who, t->src->label,
                       (long long)l.no, (long long)w, t->rows ? "line" :
                       "the header, line", (long long)(t->rows ? t->first_no :
                       t->header_no), (long long)t->cols);
    t->rows++;
  }
  return HEBB_OK;
}

static int fill(const table *t, hebb_tensor *out) {
  line l = {0};
  int64_t at = 0, r = 0, i, a, b, col;
  double *f = t->dtype == HEBB_I64 ? NULL : hebb_data_ptr(out);
  int64_t *k = t->dtype == HEBB_I64 ? hebb_data_ptr(out) : NULL;
  float *s = t->dtype == HEBB_F32 ? hebb_data_ptr(out) : NULL;
  while (next_line(t, &at, &l)) {
    if (l.len == 0 || l.no == t->header_no) continue;
    for (i = 0, col = 0; next_field(t, l.s, l.len, &i, &a, &b); col++) {
      double v = 0;
      int64_t iv = 0;
      if (!number(t, l.s + a, b, &v, &iv)) return not_number(t, &l, col + 1, a, b);
      if (k) k[r * t->cols + col] = iv;
      else if (s) s[r * t->cols + col] = (float)v;
      else f[r * t->cols + col] = v;
    }
    r++;
  }
  return HEBB_OK;
}

/* the header's names, each followed by '\n', into names (cap bytes) */
static void header_names(const table *t, char *names, int64_t cap) {
  line l = {0};
  int64_t at = 0, i = 0, a, b, k = 0;
  const char *s;
  int64_t len;
  names[0] = '\0';
  if (!t->header_no) return;
  while (next_line(t, &at, &l) && l.no < t->header_no) {}
  s = l.note ? l.note : l.s;
  len = l.note ? l.note_len : l.len;
  while (next_field(t, s, len, &i, &a, &b) && k + b + 2 <= cap) {
    memcpy(names + k, s + a, (size_t)b);
    k += b;
    names[k++] = '\n';
  }
  names[k] = '\0';
}

static hebb_tensor *parse(table *t, char *names, int64_t cap) {
  int64_t shape[2];
  hebb_tensor *out;
  locale_t old = enter_c();
  int rc = measure(t);
  out = NULL;
  if (rc == HEBB_OK) {
    shape[0] = t->rows;
    shape[1] = t->cols;
    out = hebb_empty(t->dtype, 2, shape);
  }
  if (out && fill(t, out) != HEBB_OK) {
    hebb_release(out);
    out = NULL;
  }
  leave_c(old);
  if (out && names && cap > 0) header_names(t, names, cap);
  return out;
}

static hebb_tensor *load_text(const hebb_src *src, const char *text,
                              int64_t n, char delim, char comment, int dtype,
                              char *names, int64_t cap) {
  table t;
  if (dtype != HEBB_F64 && dtype != HEBB_F32 && dtype != HEBB_I64)
    return hebb_fail_null(HEBB_ERR_DTYPE, "io.loadtxt: dtype %s is not "
                          "supported (f64, f32 or i64)", hebb_dtype_name(dtype));
  if ((delim && (blank(delim) || delim == '\n' || delim == comment)) ||
      comment == '\n')
    return hebb_fail_null(HEBB_ERR_ARG, "io.loadtxt: the delimiter and the "
                          "comment character must differ and not be "
                          "whitespace");
  memset(&t, 0, sizeof t);
  t.src = src;
  t.p = text;
  t.n = n;
  t.delim = delim;
  t.comment = comment;
  t.dtype = dtype;
  return parse(&t, names, cap);
}

hebb_tensor *hebb_loadtxt_decode(const void *text, int64_t n, char delim,
                                 char comment, int dtype, char *names,
                                 int64_t cap) {
  hebb_src src;
  hebb_src_buffer(&src, text, n, "the string", "io.loadtxt");
  return load_text(&src, text, n, delim, comment, dtype, names, cap);
}

hebb_tensor *hebb_loadtxt(const char *path, char delim, char comment,
                          int dtype, char *names, int64_t cap) {
  hebb_src src;
  hebb_tensor *t = NULL;
  char *text;
  if (hebb_src_open(&src, path, "io.loadtxt") != HEBB_OK) return NULL;
  if (!(text = malloc((size_t)src.size + 1))) {
    hebb_src_close(&src);
    return hebb_fail_null(HEBB_ERR_NOMEM, "io.loadtxt: out of memory");
  }
  if (hebb_src_read(&src, 0, text, src.size, "the text") == HEBB_OK)
    t = load_text(&src, text, src.size, delim, comment, dtype, names, cap);
  free(text);
  hebb_src_close(&src);
  return t;
}

/* --- writing ----------------------------------------------------------------- */

/* the shortest of %.15g, %.16g, %.17g (f32: %.6g .. %.9g) that reads back
   to the same bits */
static int shortest(char *buf, size_t size, double x, bool single) {
  int p, n = 0;
  if (x != x) return snprintf(buf, size, "nan");
  if (isinf(x)) return snprintf(buf, size, x > 0 ? "inf" : "-inf");
  for (p = single ? 6 : 15; p <= (single ? 9 : 17); p++) {
    n = snprintf(buf, size, "%.*g", p, x);
    if (single ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x) break;
  }
  return n;
}

static int format_value(const hebb_tensor *t, const char *p, char *buf,
                        size_t size) {
  switch (t->dtype) {
    case HEBB_F64: return shortest(buf, size, *(const double *)p, false);
    case HEBB_F32: return shortest(buf, size, *(const float *)p, true);
    case HEBB_I64: return snprintf(buf, size, "%lld", (long long)*(const int64_t *)p);
    default: return snprintf(buf, size, "%d", *(const bool *)p ? 1 : 0);
  }
}

typedef struct outbuf {
  hebb_sink *sink;
  char b[1 << 16];
  int64_t n;
} outbuf;

static int put(outbuf *o, const char *s, int64_t n) {
  if (o->n + n > (int64_t)sizeof o->b) {
    if (hebb_sink_write(o->sink, o->b, o->n) != HEBB_OK) return hebb_last_status();
    o->n = 0;
  }
  if (n > (int64_t)sizeof o->b) return hebb_sink_write(o->sink, s, n);
  memcpy(o->b + o->n, s, (size_t)n);
  o->n += n;
  return HEBB_OK;
}

static int write_rows(outbuf *o, const hebb_tensor *t, char delim) {
  int64_t rows = t->shape[0], cols = t->ndim == 2 ? t->shape[1] : 1, r, c;
  int64_t rs = t->stride[0], cs = t->ndim == 2 ? t->stride[1] : 0;
  int size = hebb_dtype_size(t->dtype);
  char num[64];
  for (r = 0; r < rows; r++) {
    for (c = 0; c < cols; c++) {
      const char *p = hebb_data_ptr(t) + (r * rs + c * cs) * size;
      int n = format_value(t, p, num + 1, sizeof num - 1);
      num[0] = delim;
      if (put(o, c ? num : num + 1, c ? n + 1 : n) != HEBB_OK)
        return hebb_last_status();
    }
    if (put(o, "\n", 1) != HEBB_OK) return hebb_last_status();
    if ((r & 4095) == 4095 && hebb_interrupt_pending())
      return hebb_check_interrupt();
  }
  return HEBB_OK;
}

int hebb_savetxt(const char *path, const hebb_tensor *t, char delim,
                 const char *header, const char *comments) {
  outbuf *o;
  hebb_sink s;
  locale_t old;
  int rc;
  if (t->ndim < 1 || t->ndim > 2 || hebb_is_complex(t->dtype))
    return hebb_fail(HEBB_ERR_SHAPE, "io.savetxt: a table is a 1-d or 2-d "
                     "real tensor, got %s with %d dimensions (for complex "
                     "numbers, save real() and imag() as columns)",
                     hebb_dtype_name(t->dtype), t->ndim);
  if (!(o = malloc(sizeof *o)))
    return hebb_fail(HEBB_ERR_NOMEM, "io.savetxt: out of memory");
  if ((rc = hebb_sink_open(&s, path, "io.savetxt")) != HEBB_OK) {
    free(o);
    return rc;
  }
  o->sink = &s;
  o->n = 0;
  old = enter_c();
  if (header)
    rc = put(o, comments, (int64_t)strlen(comments)) ||
         put(o, header, (int64_t)strlen(header)) || put(o, "\n", 1);
  if (rc == HEBB_OK) rc = write_rows(o, t, delim);
  leave_c(old);
  if (rc == HEBB_OK) rc = hebb_sink_write(&s, o->b, o->n);
  if (rc == HEBB_OK) rc = hebb_sink_commit(&s);
  else hebb_sink_abort(&s);
  free(o);
  return rc == HEBB_OK ? HEBB_OK : hebb_last_status();
}

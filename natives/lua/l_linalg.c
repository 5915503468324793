/*
** l_linalg.c -- the module `hebb.linalg`: dense linear algebra over
** LAPACK (OpenBLAS).  The kernels are in natives/core/linalg*.c; every
** function works on batches (a tensor {..., m, n} is a stack of m x n
** matrices) in f64, f32, c128 or c64.
*/
#include <math.h>
#include <string.h>

#include "lhebb.h"

/* Pushes n empty result boxes (before the core allocates anything), so a
   raised error cannot leak a result. */
static void boxes(lua_State *L, int n, hebb_tensor ***box, hebb_tensor **r) {
  int i;
  for (i = 0; i < n; i++) {
    box[i] = hebbL_newbox(L);
    r[i] = NULL;
  }
}

/* Fills the boxes with a core call's results (or raises its error). */
static int results(lua_State *L, int n, hebb_tensor ***box, hebb_tensor **r,
                   int status) {
  int i;
  if (status != HEBB_OK) return hebbL_raise(L);
  for (i = 0; i < n; i++) {
    *box[i] = r[i];
    hebbL_account(L, r[i]);
  }
  return n;
}

typedef hebb_status (*unary_fn)(const hebb_tensor *a, hebb_tensor **out);

static int unary(lua_State *L, unary_fn fn) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  hebbL_noextra(L, 1);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, fn(a, &r[0]));
}

static int l_inv(lua_State *L) { return unary(L, hebb_linalg_inv); }
static int l_det(lua_State *L) { return unary(L, hebb_linalg_det); }
static int l_cholesky(lua_State *L) { return unary(L, hebb_linalg_cholesky); }
static int l_expm(lua_State *L) { return unary(L, hebb_linalg_expm); }
static int l_cond(lua_State *L) { return unary(L, hebb_linalg_cond); }

static int l_solve(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2), **box[1], *r[1];
  hebbL_noextra(L, 2);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_solve(a, b, &r[0]));
}

/* an optional non-negative number at idx (-1 when absent: the default) */
static double optcut(lua_State *L, int idx, const char *what) {
  double v;
  if (lua_isnoneornil(L, idx)) return -1;
  v = luaL_checknumber(L, idx);
  luaL_argcheck(L, v >= 0, idx, what);
  return v;
}

static int l_lstsq(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), *b = hebbL_check(L, 2), **box[1], *r[1];
  double rcond = optcut(L, 3, "rcond must be >= 0");
  hebbL_noextra(L, 3);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_lstsq(a, b, rcond, &r[0]));
}

static int l_pinv(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  double rcond = optcut(L, 2, "rcond must be >= 0");
  hebbL_noextra(L, 2);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_pinv(a, rcond, &r[0]));
}

static int l_slogdet(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[2], *r[2];
  hebbL_noextra(L, 1);
  boxes(L, 2, box, r);
  return results(L, 2, box, r, hebb_linalg_slogdet(a, &r[0], &r[1]));
}

static int l_qr(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[2], *r[2];
  hebbL_noextra(L, 1);
  boxes(L, 2, box, r);
  return results(L, 2, box, r, hebb_linalg_qr(a, &r[0], &r[1]));
}

static int l_eigh(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[2], *r[2];
  hebbL_noextra(L, 1);
  boxes(L, 2, box, r);
  return results(L, 2, box, r, hebb_linalg_eigh(a, &r[0], &r[1]));
}

static int l_eig(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[2], *r[2];
  hebbL_noextra(L, 1);
  boxes(L, 2, box, r);
  return results(L, 2, box, r, hebb_linalg_eig(a, &r[0], &r[1]));
}

static int l_eigvals(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  hebbL_noextra(L, 1);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_eig(a, &r[0], NULL));
}

static int l_eigvalsh(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  hebbL_noextra(L, 1);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_eigh(a, &r[0], NULL));
}

static int l_svdvals(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  hebbL_noextra(L, 1);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_svd(a, false, NULL, &r[0], NULL));
}

/* the options of a truncated svd: tol, method, power */
static void lowrank_opts(lua_State *L, double *tol, int *method,
                         lua_Integer *power) {
  static const char *const names[] = {"auto", "randomized", "gesdd", NULL};
  if (lua_getfield(L, 2, "tol") != LUA_TNIL) {
    if (!lua_isnumber(L, -1) || !(lua_tonumber(L, -1) >= 0))
      luaL_error(L, "linalg.svd: option 'tol' must be a number >= 0");
    *tol = lua_tonumber(L, -1);
  }
  if (lua_getfield(L, 2, "method") != LUA_TNIL) {
    const char *m = lua_tostring(L, -1);
    int i;
    for (i = 0; names[i] && (!m || strcmp(m, names[i])); i++) {}
    if (!names[i])
      luaL_error(L, "linalg.svd: option 'method' must be \"auto\", "
                 "\"randomized\" or \"gesdd\", got %s", luaL_tolstring(L, -1,
                                                                 NULL));
    *method = i;
  }
  if (lua_getfield(L, 2, "power") != LUA_TNIL) {
    int isint;
    *power = lua_tointegerx(L, -1, &isint);
    if (!isint) luaL_error(L, "linalg.svd: option 'power' must be an integer");
    if (*method != HEBB_SVD_RANDOMIZED)
      luaL_error(L, "linalg.svd: option 'power' needs method=\"randomized\"");
  }
  else if (*method == HEBB_SVD_RANDOMIZED) *power = 2;
  lua_pop(L, 3);
}

static int l_svd(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[4], *r[4];
  int full = 0, hasrank = 0, isint, method = HEBB_SVD_AUTO;
  lua_Integer rank = 0, power = 0;
  double tol = -1;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    hebbL_checkkeys(L, 2, (const char *const[]){"full", "rank", "tol",
                                               "method", "power", NULL});
    full = lua_getfield(L, 2, "full") != LUA_TNIL && lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "rank") != LUA_TNIL) {
      rank = lua_tointegerx(L, -1, &isint);
      if (!isint) return luaL_error(L, "linalg.svd: option 'rank' must be an "
                                    "integer");
      hasrank = 1;
    }
    lua_pop(L, 2);
    if (full && hasrank)
      return luaL_error(L, "linalg.svd: options 'full' and 'rank' exclude each "
                        "other");
    if (hasrank) lowrank_opts(L, &tol, &method, &power);
  }
  hebbL_noextra(L, 2);
  if (hasrank) {
    boxes(L, 4, box, r);
    return results(L, 4, box, r, hebb_linalg_svd_lowrank(a, rank, method, tol,
                                                         power, &r[0], &r[1],
                                                         &r[2], &r[3]));
  }
  boxes(L, 3, box, r);
  return results(L, 3, box, r, hebb_linalg_svd(a, full, &r[0], &r[1], &r[2]));
}

static int l_matrix_power(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  int isint;
  lua_Integer n = lua_tointegerx(L, 2, &isint);
  if (!isint) luaL_typeerror(L, 2, "integer");
  hebbL_noextra(L, 2);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_matrix_power(a, n, &r[0]));
}

static int l_powm_psd(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  double p = luaL_checknumber(L, 2);
  hebbL_noextra(L, 2);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_powm_psd(a, p, &r[0]));
}

static int l_sqrtm_psd(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  hebbL_noextra(L, 1);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_powm_psd(a, 0.5, &r[0]));
}

/* ord as the core's name: a string, or 1, 2, -1, -2, +-math.huge */
static const char *checkord(lua_State *L, int idx) {
  lua_Number v;
  if (lua_isnoneornil(L, idx)) return "fro";
  if (lua_type(L, idx) == LUA_TSTRING) return lua_tostring(L, idx);
  v = luaL_checknumber(L, idx);
  if (v == HUGE_VAL) return "inf";
  if (v == -HUGE_VAL) return "-inf";
  if (v == 1) return "1";
  if (v == -1) return "-1";
  if (v == 2) return "2";
  if (v == -2) return "-2";
  luaL_argerror(L, idx, "order must be 'fro', 'nuc', 1, -1, 2, -2, math.huge "
                "or -math.huge");
  return NULL;
}

static int l_norm(lua_State *L) {
  hebb_tensor *a = hebbL_check(L, 1), **box[1], *r[1];
  const char *ord = checkord(L, 2);
  hebbL_noextra(L, 2);
  boxes(L, 1, box, r);
  return results(L, 1, box, r, hebb_linalg_norm(a, ord, &r[0]));
}

static const hebb_lreg linalg_funcs[] = {
  {"solve", l_solve, HEBB_FN,
   "linalg.solve(A, B)\n\nThe solution X of A X = B for square A ({..., n, "
   "n}), by LU factorization with partial pivoting (LAPACK getrf/getrs).  B "
   "is {..., n, k}, or a vector {n} (then X is a vector); batch dimensions "
   "broadcast.  A singular A raises an error naming getrf's info: U(i,i) "
   "is the first exactly-zero pivot.  Complex A or B (zgetrf/cgetrf) give "
   "a complex X; mixed operands compute in the joint dtype: complex if "
   "either is, double precision if either is (f64 with c64 gives c128, "
   "integers count as f64)."},
  {"lstsq", l_lstsq, HEBB_FN,
   "linalg.lstsq(A, B [, rcond])\n\nThe least-squares solution X minimizing "
   "|A X - B| for any m x n A (the minimum-norm one when A is rank "
   "deficient), by SVD (gelsd).  Singular values below rcond * s_max count "
   "as zero; the default rcond is machine epsilon * max(m, n).  B is {..., "
   "m, k} or a vector {m}; X is {..., n, k} or {n}.  Complex matrices "
   "(zgelsd/cgelsd) minimize the same norm: A^H (A X - B) = 0; dtypes "
   "combine as in linalg.solve."},
  {"inv", l_inv, HEBB_FN,
   "linalg.inv(A)\n\nThe inverse of square matrices (getrf/getri).  A "
   "singular matrix raises an error; to solve a system, linalg.solve is "
   "faster and more accurate than multiplying by the inverse.  Real or "
   "complex."},
  {"det", l_det, HEBB_FN,
   "linalg.det(A)\n\nThe determinant of square matrices (the batch shape; "
   "0-d for one matrix), the product of the LU pivots (complex for complex "
   "A).  For large matrices, whose determinant over- or underflows, use "
   "linalg.slogdet."},
  {"slogdet", l_slogdet, HEBB_FN,
   "linalg.slogdet(A)  ->  sign, logabsdet\n\nThe sign (1, -1, or 0 for a "
   "singular matrix) and the natural logarithm of |det A| (-inf if "
   "singular), so det A = sign * exp(logabsdet) without overflow: a "
   "partition function's log Z from a Gaussian integral, say.  For "
   "complex A (as in numpy) the sign is the phase det A / |det A|, a "
   "complex number of modulus 1 in A's dtype (0 if singular), and "
   "logabsdet is real (f64; f32 for c64)."},
  {"cholesky", l_cholesky, HEBB_FN,
   "linalg.cholesky(A)\n\nThe lower-triangular L with A = L L^T for "
   "symmetric positive definite A (potrf), or A = L L^H for complex "
   "Hermitian positive definite A (zpotrf/cpotrf; L's diagonal is real and "
   "positive).  Only the lower triangle of A is read.  A matrix that is not "
   "positive definite raises an error naming the order of the first "
   "leading minor that is not positive."},
  {"qr", l_qr, HEBB_FN,
   "linalg.qr(A)  ->  Q, R\n\nThe reduced QR factorization A = Q R of an m x "
   "n matrix: Q is m x k with orthonormal columns, R is k x n upper "
   "triangular, k = min(m, n) (geqrf/orgqr).  The signs follow LAPACK (R's "
   "diagonal may be negative).  Complex A (geqrf/ungqr): Q^H Q = I."},
  {"eigh", l_eigh, HEBB_FN,
   "linalg.eigh(A)  ->  w, V\n\nEigenvalues (ascending) and orthonormal "
   "eigenvectors of real symmetric or complex Hermitian matrices: A V = V "
   "diag(w), eigenvector i is the column V[{{}, i}] (syevd; heevd for c128 "
   "and c64, divide and conquer).  w is real (f64, f32 for f32 and c64 "
   "input), V has A's dtype.  Only the lower triangle of A is read.  Each "
   "eigenvector's sign (complex: phase) is arbitrary."},
  {"eigvalsh", l_eigvalsh, HEBB_FN,
   "linalg.eigvalsh(A)\n\nThe eigenvalues (ascending, real) of real "
   "symmetric or complex Hermitian matrices, without the eigenvectors "
   "(faster than linalg.eigh)."},
  {"eig", l_eig, HEBB_FN,
   "linalg.eig(A)  ->  w, V\n\nEigenvalues and right eigenvectors of general "
   "(non-symmetric) square matrices: A V = V diag(w), eigenvector i is the "
   "column V[{{}, i}], each of unit norm (geev).  w and V are complex (c128; "
   "c64 for f32 and c64 input) and in LAPACK's order, not sorted.  For "
   "symmetric or Hermitian matrices linalg.eigh is faster and gives real "
   "w and orthonormal V."},
  {"eigvals", l_eigvals, HEBB_FN,
   "linalg.eigvals(A)\n\nThe (complex) eigenvalues of general square "
   "matrices, without the eigenvectors (faster than linalg.eig)."},
  {"svd", l_svd, HEBB_FN,
   "linalg.svd(A [, {full=true}])  ->  U, S, Vh\n"
   "linalg.svd(A, {rank=chi [, tol=, method=, power=]})  ->  U, S, Vh, "
   "discarded\n\nThe singular "
   "value decomposition A = U diag(S) Vh of m x n matrices (gesdd), S "
   "descending.  Reduced by default (k = min(m, n): U is m x k, Vh is k x "
   "n); with full=true U is m x m and Vh n x n.  With rank=chi only the chi "
   "largest singular values are kept (U m x chi, S chi, Vh chi x n: the "
   "best rank-chi approximation, as in tensor RG and DMRG) and discarded is "
   "the discarded weight, the sum of the squares of the dropped singular "
   "values = |A - U diag(S) Vh|_F^2, absolute (divide by |A|_F^2 = "
   "linalg.norm(A)^2 for the relative weight); a chi above min(m, n) keeps "
   "everything.  The truncated SVD does not compute the full one: method "
   "\"auto\" (the default) iterates a randomized subspace of 2 chi vectors "
   "(Halko, Martinsson & Tropp 2011) until every kept triplet has residual "
   "|A v - s u| <= tol s_1 (tol 1e-12 for f64, 1e-5 for f32), exact to that "
   "tolerance, and falls back to gesdd when the spectrum decays too slowly "
   "to converge within ~1/2 of gesdd's flops, or when chi is above ~min(m, "
   "n)/4 or the matrix is complex; \"gesdd\" always takes the full SVD; "
   "\"randomized\" makes exactly power (default 2) power iterations with "
   "no test: fast, approximate, judged by its discarded weight.  Complex A "
   "(zgesdd/cgesdd): U and Vh are complex with "
   "orthonormal columns and rows, Vh = V^H, and S (like the discarded "
   "weight) is real: f64, f32 for f32 and c64."},
  {"svdvals", l_svdvals, HEBB_FN,
   "linalg.svdvals(A)\n\nThe singular values (descending, real) only."},
  {"expm", l_expm, HEBB_FN,
   "linalg.expm(A)\n\nThe matrix exponential e^A of square matrices, by "
   "scaling and squaring with a Pade approximant of degree 3 to 13 "
   "(Higham 2005), accurate to about double precision; f32 input is "
   "computed in f64 and c64 in c128, then rounded.  expm of t*[[0,-1],[1,0]] "
   "is a rotation by the angle t; for Hermitian H, expm(H * (-t * T.I)) is "
   "the unitary evolution e^(-iHt)."},
  {"matrix_power", l_matrix_power, HEBB_FN,
   "linalg.matrix_power(A, n)\n\nA^n for an integer n, by repeated squaring "
   "(about 2 log2|n| products); n = 0 gives the identity and a negative n "
   "the power of the inverse (an error if A is singular).  Real or "
   "complex."},
  {"powm_psd", l_powm_psd, HEBB_FN,
   "linalg.powm_psd(A, a)\n\nA^a for a symmetric positive semidefinite A "
   "and any real a, as V diag(w^a) V^T from linalg.eigh (so the result is "
   "symmetric): the metric (M^2)^a of covariant gradient descent.  "
   "Eigenvalues within rounding of zero (|w| <= n * eps * max|w|) count "
   "as 0, so a rank-deficient A is fine for a >= 0; clearly negative ones "
   "raise an error, and so does a zero eigenvalue with a < 0.  A complex "
   "Hermitian positive semidefinite A gives the Hermitian V diag(w^a) V^H "
   "(heevd)."},
  {"sqrtm_psd", l_sqrtm_psd, HEBB_FN,
   "linalg.sqrtm_psd(A)\n\nThe symmetric positive semidefinite square root "
   "of a symmetric positive semidefinite A: linalg.powm_psd(A, 0.5) (for "
   "complex Hermitian A, the Hermitian square root)."},
  {"pinv", l_pinv, HEBB_FN,
   "linalg.pinv(A [, rcond])\n\nThe Moore-Penrose pseudo-inverse (n x m for "
   "m x n A) through the SVD, V diag(1/s) U^H; singular values below rcond "
   "* s_max count as zero (default rcond: machine epsilon * max(m, n)).  "
   "Real or complex."},
  {"norm", l_norm, HEBB_FN,
   "linalg.norm(A [, ord])\n\nMatrix norms over the last two dimensions: "
   "'fro' (default; sqrt of the sum of squares), 'nuc' (sum of singular "
   "values), 2 (largest singular value), -2 (smallest), 1 (largest "
   "absolute column sum), -1 (smallest), math.huge or 'inf' (largest "
   "absolute row sum), -math.huge or '-inf' (smallest).  Of a complex "
   "matrix the norms use |a_ij| and are real (f64; f32 for f32 and c64).  "
   "For vector norms use t:norm()."},
  {"cond", l_cond, HEBB_FN,
   "linalg.cond(A)\n\nThe 2-norm condition number s_max / s_min (about "
   "1/eps or more for a numerically singular matrix, inf when s_min is "
   "exactly 0): its log10 is roughly how many digits a linear solve with A "
   "can lose.  Real for complex A too."},
  {NULL, NULL, 0, NULL}
};

int luaopen_hebb_linalg(lua_State *L) {
  return hebbL_newmodule(L, linalg_funcs,
    "hebb.linalg\n\nDense linear algebra over LAPACK (OpenBLAS): "
    "solve, lstsq, inv, det, slogdet, cholesky, qr, eigh, eig, svd (also "
    "truncated to a rank), expm, matrix_power, powm_psd, pinv, norm, "
    "cond.  Every function takes batches (a tensor {..., m, n} is a "
    "stack of m x n matrices) in f64, f32, c128 or c64 (LAPACK's d, s, z "
    "and c routines; other real dtypes compute in f64); inputs are never "
    "modified.  Results are the same at any thread count.  See "
    "docs/linalg.md.");
}

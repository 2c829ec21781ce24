// Build (from the package root, after scripts/fetch-apfixed.sh):
//   g++ -O1 -std=c++14 -I .cache/apfixed/ap_types -o .cache/apfixed/oracle Tests/apfixed/oracle.cpp
// Run:
//   .cache/apfixed/oracle 12345 12000 > .cache/apfixed/cases.txt
//
// The ap_fixed oracle: random conversions computed by the real ap_fixed headers (shipped in the
// hls4ml wheel), printed one per line, for Tests/FixedPointTests/ApFixedDifferentialTests.swift
// to replay against rtlgen's FixedPoint library. Output lines:
//
//   cast <srctype> <srccode> <dsttype> <code>     ap_fixed<dst> d = ap_fixed<src>(raw srccode)
//   double <dsttype> <m>*2^<e> <code>             ap_fixed<dst> d = (double)(m * 2^e)
//
// Types use rtlgen's spelling with all four arguments, e.g. fixed<16,6,RND_CONV,SAT> or
// ufixed<8,-2,TRN,WRAP>. Codes are the raw two's-complement contents as decimal integers
// (signed for fixed, unsigned for ufixed): value = code * 2^-(W-I). For double lines m is an odd
// integer (or 0) and the printed value is exactly the double handed to ap_fixed.
// Lines starting with '#' are comments.
//
// The type set is fixed at compile time (template parameters); it lives in types.inc, which
// gen_types.py generates. Output is a pure function of (seed, count).
#include <ap_fixed.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

typedef __int128 i128;
typedef unsigned __int128 u128;

struct TypeInfo {
  bool s;
  int w;
  int i;
  const char* name;
};
struct PairInfo {
  int src;
  int dst;
};

#include "types.inc"

// ---------------------------------------------------------------------------------------------
// 128-bit helpers (all wrapping arithmetic is done in u128 to stay clear of signed overflow).

static u128 lowmask(int n) {
  if (n <= 0) return 0;
  if (n >= 128) return ~(u128)0;
  return ((u128)1 << n) - 1;
}
static u128 bitAt(int n) { return (n >= 0 && n < 128) ? ((u128)1 << n) : 0; }
static u128 shl(u128 x, int n) { return (n < 0 || n >= 128) ? 0 : (x << n); }
// Arithmetic right shift of the two's-complement value held in x.
static u128 sar(u128 x, int n) {
  bool neg = (x >> 127) & 1;
  if (n <= 0) return x;
  if (n >= 128) return neg ? ~(u128)0 : 0;
  u128 r = x >> n;
  if (neg) r |= ~lowmask(128 - n);
  return r;
}
// The w-bit pattern b read as a code of a (s)igned or unsigned type, extended to 128 bits.
static u128 extend(u128 b, int w, bool s) {
  b &= lowmask(w);
  if (s && w < 128 && ((b >> (w - 1)) & 1)) b |= ~lowmask(w);
  return b;
}
static std::string dec(u128 v, bool s) {
  bool neg = s && ((v >> 127) & 1);
  u128 m = neg ? (u128)0 - v : v;
  char buf[64];
  int p = 63;
  buf[p] = 0;
  if (m == 0) buf[--p] = '0';
  while (m != 0) {
    buf[--p] = (char)('0' + (int)(m % 10));
    m /= 10;
  }
  if (neg) buf[--p] = '-';
  return std::string(buf + p);
}
static int bitlen64(uint64_t m) {
  int n = 0;
  while (m) {
    n++;
    m >>= 1;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// ap_fixed access: raw bits in and out through the public range() API.

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
static bool signOf(const ap_fixed_base<W, I, S, Q, O, N>&) {
  return S;
}

template <class T>
static u128 readBits(const T& x0) {
  T x = x0;
  const int W = T::width;
  u128 lo = (uint64_t)x.range(W < 64 ? W - 1 : 63, 0).to_uint64();
  u128 hi = 0;
  if (W > 64) hi = (uint64_t)x.range(W - 1, 64).to_uint64();
  return extend((hi << 64) | (lo & lowmask(W < 64 ? W : 64)), W, signOf(x));
}

template <class T>
static T fromBits(u128 bits) {
  T x = T();
  const int W = T::width;
  x.range(W < 64 ? W - 1 : 63, 0) = (ap_ulong)(uint64_t)bits;
  if (W > 64) x.range(W - 1, 64) = (ap_ulong)(uint64_t)(bits >> 64);
  return x;
}

template <class S, class D>
static u128 castCase(u128 srcBits, u128* srcCode) {
  S s = fromBits<S>(srcBits);
  *srcCode = readBits(s);
  D d = s;  // the conversion under test: ap_fixed_base::operator=(const ap_fixed_base<...>&)
  return readBits(d);
}

template <class D>
static u128 doubleCase(double x) {
  D d = x;  // the conversion under test: ap_fixed_base(double)
  return readBits(d);
}

typedef u128 (*CastFn)(u128, u128*);
typedef u128 (*DoubleFn)(double);

#define MK_PAIR(j, k) &castCase<S##j, T##k>,
static const CastFn kCast[] = {RTL_PAIRS(MK_PAIR)};
#define MK_DBL(k) &doubleCase<T##k>,
static const DoubleFn kDouble[] = {RTL_TARGETS(MK_DBL)};

struct Shape {
  int w, i;
  bool s;
  ap_q_mode q;
};
#define MK_TSHAPE(k) {T##k::width, T##k::iwidth, signOf(T##k()), T##k::qmode},
static const Shape kTargetShape[] = {RTL_TARGETS(MK_TSHAPE)};
#define MK_SSHAPE(k) {S##k::width, S##k::iwidth, signOf(S##k()), S##k::qmode},
static const Shape kSourceShape[] = {RTL_SOURCES(MK_SSHAPE)};

static const int nTargets = sizeof(kTargetInfo) / sizeof(kTargetInfo[0]);
static const int nSources = sizeof(kSourceInfo) / sizeof(kSourceInfo[0]);
static const int nPairs = sizeof(kPairInfo) / sizeof(kPairInfo[0]);

static void checkTables() {
  bool ok = nTargets == (int)(sizeof(kDouble) / sizeof(kDouble[0])) &&
            nPairs == (int)(sizeof(kCast) / sizeof(kCast[0])) &&
            nSources == (int)(sizeof(kSourceShape) / sizeof(kSourceShape[0]));
  for (int k = 0; ok && k < nTargets; k++)
    ok = kTargetShape[k].w == kTargetInfo[k].w && kTargetShape[k].i == kTargetInfo[k].i &&
         kTargetShape[k].s == kTargetInfo[k].s;
  for (int k = 0; ok && k < nSources; k++)
    ok = kSourceShape[k].w == kSourceInfo[k].w && kSourceShape[k].i == kSourceInfo[k].i &&
         kSourceShape[k].s == kSourceInfo[k].s;
  if (!ok) {
    fprintf(stderr, "oracle: types.inc tables disagree with the instantiated types\n");
    exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// Deterministic random numbers (splitmix64).

static uint64_t rngState;
static uint64_t next64() {
  uint64_t z = (rngState += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
static int rnd(int n) { return (int)(next64() % (uint64_t)n); }
static u128 rand128() { return ((u128)next64() << 64) | next64(); }

// A code of type t (as a two's-complement u128) near something interesting: its bounds, zero,
// or random, possibly just outside the range.
static u128 pickCode(const TypeInfo& t) {
  u128 mn = t.s ? ~lowmask(t.w - 1) : 0;  // min as a 128-bit two's-complement value
  u128 mx = t.s ? lowmask(t.w - 1) : lowmask(t.w);
  switch (rnd(20)) {
    case 0: return mn - 2;
    case 1: return mn - 1;
    case 2: return mn;
    case 3: return mn + 1;
    case 4: return mx - 1;
    case 5: return mx;
    case 6: return mx + 1;
    case 7: return mx + 2;
    case 8: return (u128)0 - 2;
    case 9: return (u128)0 - 1;
    case 10: return 0;
    case 11: return 1;
    case 12: return 2;
    case 13: return mx << 1;
    case 14: return mn << 1;
    case 15: return sar(extend(rand128(), t.w + 2, true), rnd(t.w + 1));  // a bit beyond range
    default: return sar(extend(rand128(), t.w, t.s), rnd(t.w));  // in range, any magnitude
  }
}

// ---------------------------------------------------------------------------------------------
// Case generation.

static long tieCount = 0;

// ap_fixed_base::operator= reads bit F2-F-1 of the source whenever the target's rounding mode
// looks at dropped bits, even when that bit lies above the source's MSB (all source bits
// dropped); ap_private's get_bit then fails an assert. With asserts on, such casts abort the
// C simulation, so they are generated only when the oracle is built with -DNDEBUG.
static bool allDroppedAsserts(const PairInfo& p) {
  const TypeInfo& st = kSourceInfo[p.src];
  const TypeInfo& dt = kTargetInfo[p.dst];
  const ap_q_mode q = kTargetShape[p.dst].q;
  const int k = (st.w - st.i) - (dt.w - dt.i);
  return k > st.w && q != AP_TRN && !(q == AP_TRN_ZERO && !st.s);
}
#ifdef NDEBUG
static const bool kAllowAllDropped = true;
#else
static const bool kAllowAllDropped = false;
#endif

static void castLine() {
  const PairInfo* pp;
  do pp = &kPairInfo[rnd(nPairs)];
  while (!kAllowAllDropped && allDroppedAsserts(*pp));
  const PairInfo& p = *pp;
  const TypeInfo& st = kSourceInfo[p.src];
  const TypeInfo& dt = kTargetInfo[p.dst];
  const int w2 = st.w, k = (st.w - st.i) - (dt.w - dt.i);  // k = bits dropped (if > 0)
  u128 bits;
  int r = rnd(100);
  if (r < 12) {
    bits = rand128();
    if (r < 6) bits = sar(extend(bits, w2, true), rnd(w2));
  } else if (r < 22) {
    u128 mx = st.s ? lowmask(w2 - 1) : lowmask(w2);
    const u128 specials[] = {0, ~(u128)0, bitAt(w2 - 1), mx, 1, bitAt(w2 - 1) + 1, mx - 1};
    bits = specials[rnd(7)];
  } else if (r < 52 && k >= 1 && k <= w2) {
    // exact tie: dropped bits are 100...0
    bits = shl(pickCode(dt), k) | bitAt(k - 1);
  } else if (r < 66 && k >= 1) {
    // just around a tie, or sticky-only patterns
    u128 low;
    switch (rnd(5)) {
      case 0: low = bitAt(k - 1) | 1; break;
      case 1: low = bitAt(k - 1) - 1; break;
      case 2: low = 1; break;
      case 3: low = lowmask(k); break;
      default: low = bitAt(k - 1) | (rand128() & lowmask(k - 1)); break;
    }
    bits = shl(pickCode(dt), k) | (low & lowmask(k));
  } else {
    // around the target's bounds
    u128 q = pickCode(dt);
    if (k >= 0)
      bits = shl(q, k) | (rnd(2) ? 0 : (rand128() & lowmask(k)));
    else
      bits = sar(q, -k) + (u128)(rnd(3) - 1);
  }
  bits &= lowmask(w2);
  u128 srcCode;
  u128 code = kCast[&p - kPairInfo](bits, &srcCode);
  if (srcCode != extend(bits, w2, st.s)) {
    fprintf(stderr, "oracle: source bits did not round-trip for %s\n", st.name);
    exit(2);
  }
  if (k >= 1 && k <= 128 && (bits & lowmask(k)) == bitAt(k - 1)) tieCount++;
  printf("cast %s %s %s %s\n", st.name, dec(srcCode, st.s).c_str(), dt.name, dec(code, dt.s).c_str());
}

// Signed value of q (two's complement), shifted right until it has at most `bits` significant
// bits (magnitude), as int64.
static int64_t narrow(u128 q, int bits) {
  i128 v = (i128)q;
  while (v >= ((i128)1 << bits) || v < -((i128)1 << bits)) v >>= 1;
  return (int64_t)v;
}

static void doubleLine() {
  const int ti = rnd(nTargets);
  const TypeInfo& t = kTargetInfo[ti];
  const int f = t.w - t.i;
  int64_t m = 0;  // value = m * 2^e, |m| < 2^53
  int e = 0;
  double x;
  int r = rnd(100);
  if (r < 8) {
    bool neg = rnd(2);
    switch (rnd(10)) {
      case 0: m = 0; break;
      case 1: m = 1; e = -1000 + rnd(200); break;  // tiny
      case 2: m = (int64_t)(next64() >> 11) | 1; e = -1000 + rnd(400); break;
      case 3: m = (int64_t)(next64() >> 11) | 1; e = 800 + rnd(160); break;  // huge
      case 4: m = 1; e = 0; break;
      case 5: m = 1; e = -1; break;
      case 6: m = 1; e = t.i; break;
      case 7: m = 1; e = t.i - 1; break;
      case 8: m = 1; e = -f; break;
      default: m = 1; e = -f - 1; break;
    }
    if (neg) m = -m;
  } else if (r < 38) {
    // exact tie: (2q+1) * 2^-(f+1)
    m = 2 * narrow(pickCode(t), 51) + 1;
    e = -(f + 1);
  } else if (r < 52) {
    // one unit of a finer grid off a tie
    int64_t m0 = 2 * narrow(pickCode(t), 38) + 1;
    int j = 1 + rnd(52 - bitlen64((uint64_t)(m0 < 0 ? -m0 : m0)));
    m = m0 * ((int64_t)1 << j) + (rnd(2) ? 1 : -1);
    e = -(f + 1 + j);
  } else if (r < 66) {
    // an exact grid point (or a coarser one for very wide types)
    i128 q = (i128)pickCode(t);
    int s = 0;
    while (q >= ((i128)1 << 52) || q < -((i128)1 << 52)) {
      q >>= 1;
      s++;
    }
    m = (int64_t)q;
    e = s - f;
  } else if (r < 86) {
    // random significand, random magnitude around the type's range
    int nb = 1 + rnd(53);
    m = (int64_t)((next64() & (uint64_t)lowmask(nb)) | ((uint64_t)1 << (nb - 1)));
    if (rnd(2)) m = -m;
    int top = -f - 8 + rnd(t.w + 16);  // exponent of the leading bit
    e = top - (nb - 1);
  } else {
    // near the bounds, off the grid by a small amount
    int j = 1 + rnd(20);
    m = narrow(pickCode(t), 30) * ((int64_t)1 << j) + (rnd(2) ? 1 : -1);
    e = -(f + j);
  }
  x = ldexp((double)m, e);
  if (m != 0 && r < 8 && rnd(4) == 0) x = -x;  // also both signs of the specials
  if (m == 0 && rnd(2)) x = -0.0;

  // Print exactly the double handed to ap_fixed: odd significand times a power of two.
  std::string val;
  if (x == 0) {
    val = "0*2^0";
  } else {
    int ex;
    double fr = frexp(fabs(x), &ex);
    uint64_t mm = (uint64_t)ldexp(fr, 53);
    int ee = ex - 53;
    while ((mm & 1) == 0) {
      mm >>= 1;
      ee++;
    }
    if (ldexp((double)mm, ee) != fabs(x)) {
      fprintf(stderr, "oracle: inexact double decomposition\n");
      exit(2);
    }
    val = (x < 0 ? "-" : "") + std::to_string((unsigned long long)mm) + "*2^" + std::to_string(ee);
    // tie: value * 2^f has fractional part exactly 1/2  <=>  ee + f == -1
    if (ee + f == -1) tieCount++;
  }
  u128 code = kDouble[ti](x);
  printf("double %s %s %s\n", t.name, val.c_str(), dec(code, t.s).c_str());
}

int main(int argc, char** argv) {
  if (argc > 3) {
    fprintf(stderr, "usage: %s [seed] [count]\n", argv[0]);
    return 2;
  }
  uint64_t seed = argc > 1 ? strtoull(argv[1], 0, 10) : 12345;
  long count = argc > 2 ? strtol(argv[2], 0, 10) : 12000;
  checkTables();
  rngState = seed;
  printf("# ap_fixed oracle (hls4ml ap_types): seed %llu, %ld cases, %d targets, %d sources, %d pairs\n",
         (unsigned long long)seed, count, nTargets, nSources, nPairs);
  for (long n = 0; n < count; n++) {
    if (next64() & 1)
      castLine();
    else
      doubleLine();
  }
  fprintf(stderr, "oracle: %ld cases, %ld exact ties\n", count, tieCount);
  return 0;
}

#include "vidsift/wallclock.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace vidsift {

namespace {

constexpr std::int64_t kDay = 86400;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * static_cast<unsigned>(m > 2 ? m - 3 : m + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  int m, d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(std::int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Reads exactly `n` digits at s[i]; advances i. -1 when they are not there.
int digits(const std::string& s, std::size_t& i, int n) {
  if (i + static_cast<std::size_t>(n) > s.size()) return -1;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    const char c = s[i + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  i += static_cast<std::size_t>(n);
  return v;
}

std::string trim_zeros(std::string f) {
  while (!f.empty() && f.back() == '0') f.pop_back();
  return f;
}

// "+HH:MM", "+HHMM", "+HH" (ISO sign) at s[i]; seconds east of UTC.
std::optional<int> iso_offset(const std::string& s, std::size_t& i) {
  if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
  const int sign = s[i] == '-' ? -1 : 1;
  std::size_t j = i + 1;
  const int h = digits(s, j, 2);
  if (h < 0 || h > 23) return std::nullopt;
  int m = 0;
  if (j < s.size()) {
    if (s[j] == ':') ++j;
    m = digits(s, j, 2);
    if (m < 0 || m > 59) return std::nullopt;
  }
  i = j;
  return sign * (h * 3600 + m * 60);
}

bool valid_date(std::int64_t y, int m, int d) { return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m); }

// --- TZif files (RFC 8536) ---

class Bytes {
 public:
  explicit Bytes(const std::string& b) : b_(b) {}
  bool has(std::size_t n) const { return p_ + n <= b_.size(); }
  std::uint64_t be(int n) {
    if (!has(static_cast<std::size_t>(n))) throw std::invalid_argument("truncated");
    std::uint64_t v = 0;
    for (int k = 0; k < n; ++k) v = (v << 8) | static_cast<unsigned char>(b_[p_++]);
    return v;
  }
  void skip(std::size_t n) {
    if (!has(n)) throw std::invalid_argument("truncated");
    p_ += n;
  }
  std::size_t pos() const { return p_; }
  const std::string& data() const { return b_; }

 private:
  const std::string& b_;
  std::size_t p_ = 0;
};

struct Counts {
  std::uint64_t isut, isstd, leap, time, type, chars;
};

Counts header(Bytes& r, char& version) {
  if (!r.has(44) || r.data().compare(r.pos(), 4, "TZif") != 0) throw std::invalid_argument("not a TZif file");
  r.skip(4);
  version = static_cast<char>(r.be(1));
  r.skip(15);
  Counts c{};
  c.isut = r.be(4);
  c.isstd = r.be(4);
  c.leap = r.be(4);
  c.time = r.be(4);
  c.type = r.be(4);
  c.chars = r.be(4);
  return c;
}

// POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3").
class PosixParser {
 public:
  explicit PosixParser(const std::string& s) : s_(s) {}

  TimeZone::Rule parse() {
    TimeZone::Rule r;
    name();
    r.std_offset = -hms(true);
    if (i_ == s_.size()) return r;
    r.has_dst = true;
    name();
    r.dst_offset = r.std_offset + 3600;
    if (i_ < s_.size() && s_[i_] != ',') r.dst_offset = -hms(true);
    if (i_ == s_.size()) {  // no rule given: the US rule, as glibc does
      r.start = {'M', 3, 2, 0, 0, 7200};
      r.end = {'M', 11, 1, 0, 0, 7200};
      return r;
    }
    expect(',');
    r.start = date();
    expect(',');
    r.end = date();
    if (i_ != s_.size()) bad();
    return r;
  }

 private:
  [[noreturn]] void bad() const { throw std::invalid_argument("unreadable TZ rule '" + s_ + "'"); }
  void expect(char c) {
    if (i_ >= s_.size() || s_[i_] != c) bad();
    ++i_;
  }
  void name() {
    if (i_ < s_.size() && s_[i_] == '<') {
      const auto end = s_.find('>', i_);
      if (end == std::string::npos) bad();
      i_ = end + 1;
      return;
    }
    const std::size_t from = i_;
    while (i_ < s_.size() && ((s_[i_] >= 'A' && s_[i_] <= 'Z') || (s_[i_] >= 'a' && s_[i_] <= 'z'))) ++i_;
    if (i_ - from < 3) bad();
  }
  int number() {
    const std::size_t from = i_;
    int v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - from < 4) v = v * 10 + (s_[i_++] - '0');
    if (i_ == from) bad();
    return v;
  }
  // [+-]h[h][:mm[:ss]] in seconds (sign as written).
  int hms(bool signed_ok) {
    int sign = 1;
    if (signed_ok && i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) sign = s_[i_++] == '-' ? -1 : 1;
    int v = number() * 3600;
    if (i_ < s_.size() && s_[i_] == ':') {
      ++i_;
      v += number() * 60;
      if (i_ < s_.size() && s_[i_] == ':') {
        ++i_;
        v += number();
      }
    }
    return sign * v;
  }
  TimeZone::RuleDate date() {
    TimeZone::RuleDate d;
    if (i_ < s_.size() && s_[i_] == 'M') {
      ++i_;
      d.kind = 'M';
      d.month = number();
      expect('.');
      d.week = number();
      expect('.');
      d.weekday = number();
      if (d.month < 1 || d.month > 12 || d.week < 1 || d.week > 5 || d.weekday > 6) bad();
    } else if (i_ < s_.size() && s_[i_] == 'J') {
      ++i_;
      d.kind = 'J';
      d.day = number();
      if (d.day < 1 || d.day > 365) bad();
    } else {
      d.kind = 'D';
      d.day = number();
      if (d.day > 365) bad();
    }
    if (i_ < s_.size() && s_[i_] == '/') {
      ++i_;
      d.time = hms(true);
    }
    return d;
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

// Local seconds (as if UTC) at which `d` happens in year `y`.
std::int64_t rule_local(std::int64_t y, const TimeZone::RuleDate& d) {
  std::int64_t day = 0;
  if (d.kind == 'M') {
    const std::int64_t first = days_from_civil(y, d.month, 1);
    const int wd_first = static_cast<int>(((first % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
    day = first + (d.weekday - wd_first + 7) % 7 + (d.week - 1) * 7;
    while (day >= first + days_in_month(y, d.month)) day -= 7;
  } else if (d.kind == 'J') {
    day = days_from_civil(y, 1, 1) + d.day - 1 + (leap(y) && d.day >= 60 ? 1 : 0);
  } else {
    day = days_from_civil(y, 1, 1) + d.day;
  }
  return day * kDay + d.time;
}

// A UTC offset spec ("UTC", "Z", "+02:00", "-0530", "UTC+01:00"), seconds east.
std::optional<int> offset_spec(const std::string& spec) {
  std::string s = spec;
  if (s == "Z" || s == "UTC" || s == "GMT") return 0;
  if (s.rfind("UTC", 0) == 0 || s.rfind("GMT", 0) == 0) s = s.substr(3);
  std::size_t i = 0;
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  const int sign = s[0] == '-' ? -1 : 1;
  i = 1;
  const int h = digits(s, i, 2);
  if (h < 0 || h > 18) return std::nullopt;
  int m = 0;
  if (i < s.size()) {
    if (s[i] == ':') ++i;
    m = digits(s, i, 2);
    if (m < 0 || m > 59) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return sign * (h * 3600 + m * 60);
}

std::string two(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

std::string local_text(std::int64_t local) {
  const Civil c = civil_from_days(floor_div(local, kDay));
  const auto sod = static_cast<int>(local - floor_div(local, kDay) * kDay);
  return std::to_string(c.y) + "-" + two(c.m) + "-" + two(c.d) + " " + two(sod / 3600) + ":" + two(sod / 60 % 60) +
         ":" + two(sod % 60);
}

}  // namespace

std::optional<UtcTime> parse_iso_utc(const std::string& text) {
  const std::string& s = text;
  std::size_t i = 0;
  const int y = digits(s, i, 4);
  if (y < 0 || i >= s.size() || s[i++] != '-') return std::nullopt;
  const int mo = digits(s, i, 2);
  if (mo < 0 || i >= s.size() || s[i++] != '-') return std::nullopt;
  const int d = digits(s, i, 2);
  if (d < 0 || i >= s.size() || (s[i] != 'T' && s[i] != ' ')) return std::nullopt;
  ++i;
  const int h = digits(s, i, 2);
  if (h < 0 || i >= s.size() || s[i++] != ':') return std::nullopt;
  const int mi = digits(s, i, 2);
  if (mi < 0 || i >= s.size() || s[i++] != ':') return std::nullopt;
  const int se = digits(s, i, 2);
  if (se < 0 || !valid_date(y, mo, d) || h > 23 || mi > 59 || se > 59) return std::nullopt;
  UtcTime t;
  if (i < s.size() && s[i] == '.') {
    const std::size_t from = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == from) return std::nullopt;
    t.fraction = trim_zeros(s.substr(from, i - from));
  }
  int off = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size()) {
    const auto o = iso_offset(s, i);
    if (!o) return std::nullopt;
    off = *o;
  }
  if (i != s.size()) return std::nullopt;
  t.seconds = days_from_civil(y, mo, d) * kDay + h * 3600 + mi * 60 + se - off;
  return t;
}

std::string format_iso_utc(const UtcTime& t) {
  const std::int64_t days = floor_div(t.seconds, kDay);
  const Civil c = civil_from_days(days);
  const auto sod = static_cast<int>(t.seconds - days * kDay);
  char b[64];
  std::snprintf(b, sizeof b, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.y), c.m, c.d, sod / 3600,
                sod / 60 % 60, sod % 60);
  std::string out = b;
  if (!t.fraction.empty()) out += "." + t.fraction;
  return out + "Z";
}

TimeZone TimeZone::parse(const std::string& spec) {
  TimeZone z;
  z.name_ = spec;
  if (const auto off = offset_spec(spec)) {
    z.initial_offset_ = *off;
    return z;
  }
  const bool name_ok = !spec.empty() && spec.front() != '/' && spec.find("..") == std::string::npos &&
                       std::all_of(spec.begin(), spec.end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '_' || c == '+' || c == '-' || c == '/';
                       });
  if (!name_ok)
    throw std::invalid_argument("--timezone '" + spec +
                                "' is neither a UTC offset (+02:00, -0530, UTC) nor an IANA zone name "
                                "(Europe/Berlin)");
  const char* env = std::getenv("TZDIR");
  const std::string dir = env && *env ? env : "/usr/share/zoneinfo";
  const std::string file = dir + "/" + spec;
  std::ifstream in(file, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw std::invalid_argument("--timezone '" + spec + "': cannot read " + file);
  if (data.empty())
    throw std::invalid_argument("--timezone '" + spec + "': no such time zone (no file " + file +
                                "; install the tzdata package, or give a UTC offset such as +02:00)");
  try {
    Bytes r(data);
    char version = 0;
    Counts c = header(r, version);
    int tsize = 4;
    if (version >= '2') {
      r.skip(c.time * 5 + c.type * 6 + c.chars + c.leap * 8 + c.isstd + c.isut);
      c = header(r, version);
      tsize = 8;
    }
    std::vector<std::int64_t> times;
    for (std::uint64_t k = 0; k < c.time; ++k) {
      const std::uint64_t v = r.be(tsize);
      times.push_back(tsize == 4 ? static_cast<std::int32_t>(static_cast<std::uint32_t>(v))
                                 : static_cast<std::int64_t>(v));
    }
    std::vector<int> idx;
    for (std::uint64_t k = 0; k < c.time; ++k) idx.push_back(static_cast<int>(r.be(1)));
    std::vector<int> utoff;
    for (std::uint64_t k = 0; k < c.type; ++k) {
      utoff.push_back(static_cast<std::int32_t>(static_cast<std::uint32_t>(r.be(4))));
      r.skip(2);
    }
    if (utoff.empty()) throw std::invalid_argument("no time types");
    r.skip(c.chars + c.leap * static_cast<std::uint64_t>(tsize + 4) + c.isstd + c.isut);
    z.initial_offset_ = utoff[0];
    for (std::size_t k = 0; k < times.size(); ++k) {
      if (idx[k] >= static_cast<int>(utoff.size())) throw std::invalid_argument("bad time type");
      z.transitions_.push_back(times[k]);
      z.offsets_.push_back(utoff[static_cast<std::size_t>(idx[k])]);
    }
    if (version >= '2' && r.has(1) && data[r.pos()] == '\n') {
      const auto end = data.find('\n', r.pos() + 1);
      if (end != std::string::npos && end > r.pos() + 1)
        z.rule_ = PosixParser(data.substr(r.pos() + 1, end - r.pos() - 1)).parse();
    }
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("--timezone '" + spec + "': " + file + " is not a usable time zone file (" + e.what() +
                                ")");
  }
  return z;
}

int TimeZone::rule_offset(std::int64_t utc) const {
  const Rule& r = *rule_;
  if (!r.has_dst) return r.std_offset;
  const std::int64_t y = civil_from_days(floor_div(utc + r.std_offset, kDay)).y;
  const std::int64_t start = rule_local(y, r.start) - r.std_offset;
  const std::int64_t end = rule_local(y, r.end) - r.dst_offset;
  const bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? r.dst_offset : r.std_offset;
}

int TimeZone::offset_at(std::int64_t utc) const {
  if (transitions_.empty() || utc < transitions_.front())
    return transitions_.empty() && rule_ ? rule_offset(utc) : initial_offset_;
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.end() && rule_) return rule_offset(utc);
  return offsets_[static_cast<std::size_t>(it - transitions_.begin() - 1)];
}

TimeZone::Resolved TimeZone::to_utc(std::int64_t local) const {
  // The offsets a day before and after bracket at most one transition.
  const int before = offset_at(local - kDay);
  const int after = offset_at(local + kDay);
  const std::int64_t u1 = local - before;
  const std::int64_t u2 = local - after;
  const bool ok1 = offset_at(u1) == before;
  const bool ok2 = offset_at(u2) == after;
  if (ok1 && ok2 && u1 != u2) return {std::min(u1, u2), Kind::Overlap};
  if (ok1) return {u1, Kind::Exact};
  if (ok2) return {u2, Kind::Exact};
  return {u1, Kind::Gap};  // in the gap: the offset in force before it
}

// --- file names ---

namespace {

struct Fields {
  int year = -1, month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0;
  std::string fraction;
  std::optional<std::int64_t> epoch;
  std::optional<int> offset;
};

bool match(const std::string& p, std::size_t pi, const std::string& s, std::size_t si, Fields f, Fields& out) {
  while (pi < p.size()) {
    const char c = p[pi];
    if (c == '*') {
      for (std::size_t k = s.size(); k + 1 > si; --k)
        if (match(p, pi + 1, s, k, f, out)) return true;
      return false;
    }
    if (c == '?') {
      if (si >= s.size()) return false;
      ++pi;
      ++si;
      continue;
    }
    if (c != '%') {
      if (si >= s.size() || s[si] != c) return false;
      ++pi;
      ++si;
      continue;
    }
    const char d = p[pi + 1];
    pi += 2;
    int v = 0;
    switch (d) {
      case '%':
        if (si >= s.size() || s[si] != '%') return false;
        ++si;
        break;
      case 'Y':
        if ((v = digits(s, si, 4)) < 0) return false;
        f.year = v;
        break;
      case 'y':
        if ((v = digits(s, si, 2)) < 0) return false;
        f.year = 2000 + v;
        break;
      case 'm':
        if ((v = digits(s, si, 2)) < 0) return false;
        f.month = v;
        break;
      case 'd':
        if ((v = digits(s, si, 2)) < 0) return false;
        f.day = v;
        break;
      case 'j':
        if ((v = digits(s, si, 3)) < 0) return false;
        f.yday = v;
        break;
      case 'H':
        if ((v = digits(s, si, 2)) < 0) return false;
        f.hour = v;
        break;
      case 'M':
        if ((v = digits(s, si, 2)) < 0) return false;
        f.minute = v;
        break;
      case 'S':
        if ((v = digits(s, si, 2)) < 0) return false;
        f.second = v;
        break;
      case 'f':
      case 's': {
        std::size_t n = 0;
        const std::size_t most = d == 'f' ? 9 : 12;
        while (si + n < s.size() && n < most && s[si + n] >= '0' && s[si + n] <= '9') ++n;
        for (; n >= 1; --n) {  // longest first, backtracking
          Fields g = f;
          if (d == 'f') {
            g.fraction = trim_zeros(s.substr(si, n));
          } else {
            g.epoch = std::stoll(s.substr(si, n));
          }
          if (match(p, pi, s, si + n, g, out)) return true;
        }
        return false;
      }
      case 'z': {
        if (si < s.size() && s[si] == 'Z') {
          f.offset = 0;
          ++si;
        } else {
          const auto o = iso_offset(s, si);
          if (!o) return false;
          f.offset = *o;
        }
        break;
      }
      default: return false;
    }
  }
  if (si != s.size()) return false;
  out = f;
  return true;
}

}  // namespace

NameTime::NameTime(std::string pattern, TimeZone zone) : pattern_(std::move(pattern)), zone_(std::move(zone)) {
  bool year = false, month = false, day = false, yday = false, epoch = false;
  for (std::size_t i = 0; i < pattern_.size(); ++i) {
    if (pattern_[i] == '/') ++components_;
    if (pattern_[i] != '%') continue;
    const char d = i + 1 < pattern_.size() ? pattern_[i + 1] : '\0';
    if (std::string_view("YymdjHMSfsz%").find(d) == std::string_view::npos || d == '\0')
      throw std::invalid_argument("--time-from-name '" + pattern_ + "': unknown directive %" + std::string(1, d) +
                                  " (known: %Y %y %m %d %j %H %M %S %f %s %z %%, * and ?)");
    year |= d == 'Y' || d == 'y';
    month |= d == 'm';
    day |= d == 'd';
    yday |= d == 'j';
    epoch |= d == 's';
    ++i;
  }
  if (!epoch && !(year && ((month && day) || yday)))
    throw std::invalid_argument("--time-from-name '" + pattern_ +
                                "' gives no date: it needs %Y (or %y) with %m and %d (or %j), or %s");
}

std::optional<NameTime::Result> NameTime::read(const std::string& path) const {
  // The last `components_` components of the path.
  std::size_t from = path.size();
  for (int k = 0; k < components_; ++k) {
    if (from == std::string::npos || from == 0) return std::nullopt;
    from = path.rfind('/', from - 1);
  }
  const std::string tail = from == std::string::npos ? path : path.substr(from + 1);
  if (from == std::string::npos && components_ > 1 &&
      static_cast<int>(std::count(path.begin(), path.end(), '/')) + 1 < components_)
    return std::nullopt;
  Fields f;
  if (!match(pattern_, 0, tail, 0, Fields{}, f)) return std::nullopt;
  Result r;
  r.time.fraction = f.fraction;
  if (f.epoch) {
    r.time.seconds = *f.epoch;
    return r;
  }
  if (f.yday >= 0) {
    if (f.yday < 1 || f.yday > (leap(f.year) ? 366 : 365)) return std::nullopt;
    const Civil c = civil_from_days(days_from_civil(f.year, 1, 1) + f.yday - 1);
    if (f.month >= 0 && (f.month != c.m || f.day != c.d)) return std::nullopt;
    f.month = c.m;
    f.day = c.d;
  }
  if (!valid_date(f.year, f.month, f.day) || f.hour > 23 || f.minute > 59 || f.second > 59) return std::nullopt;
  const std::int64_t local = days_from_civil(f.year, f.month, f.day) * kDay + f.hour * 3600 + f.minute * 60 + f.second;
  if (f.offset) {
    r.time.seconds = local - *f.offset;
    return r;
  }
  const TimeZone::Resolved u = zone_.to_utc(local);
  r.time.seconds = u.utc;
  if (u.kind == TimeZone::Kind::Gap)
    r.note = "the name's local time " + local_text(local) + " does not exist in " + zone_.name() +
             " (clocks moved forward); read with the offset before the change, as " + format_iso_utc(r.time);
  if (u.kind == TimeZone::Kind::Overlap)
    r.note = "the name's local time " + local_text(local) + " occurs twice in " + zone_.name() +
             " (clocks moved back); the first one is used, " + format_iso_utc(r.time);
  return r;
}

RecordingStart recording_start(const std::string& path, const std::string& creation_time, const NameTime* name_time) {
  RecordingStart r;
  std::string name_warning;
  if (name_time) {
    if (const auto t = name_time->read(path)) {
      r.at = format_iso_utc(t->time);
      r.source = "name";
      r.warning = t->note;
      return r;
    }
    name_warning = "the file name does not match --time-from-name '" + name_time->pattern() + "'";
  }
  if (!creation_time.empty()) {
    if (const auto t = parse_iso_utc(creation_time)) {
      r.at = format_iso_utc(*t);
      r.source = "container";
      r.warning = name_warning.empty() ? "" : name_warning + "; recorded_at is the container's creation_time";
      return r;
    }
    r.warning = (name_warning.empty() ? "" : name_warning + "; ") + "the creation_time tag '" + creation_time +
                "' is not a date; recorded_at is unknown";
    return r;
  }
  if (!name_warning.empty()) r.warning = name_warning + "; recorded_at is unknown";
  return r;
}

}  // namespace vidsift

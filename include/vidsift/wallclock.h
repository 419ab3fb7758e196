// wallclock.h — when a recording started, in UTC: from the container's
// creation_time tag or from the file name (--time-from-name), with the file
// name read in a time zone (--timezone).
//
// Contract:
//  * parse_iso_utc(text) reads an ISO-8601 date-time as FFmpeg's demuxers
//    give creation_time ("2026-11-25T22:14:03.000000Z"; also a space for
//    "T", no fraction, a "+02:00"/"-0530" offset, no zone = UTC). Returns
//    std::nullopt for anything else (garbage, an impossible date).
//  * format_iso_utc(t) is "YYYY-MM-DDTHH:MM:SSZ", with ".fff..." before the
//    "Z" only when the source had a non-zero fraction (its digits, trailing
//    zeros dropped). SQLite's date functions read it.
//  * TimeZone::parse(spec) accepts
//      - a UTC offset: "UTC", "Z", "+02:00", "-0530", "+02", "UTC+01:00"
//        (ISO sign: +02:00 is two hours ahead of UTC);
//      - an IANA zone name ("Europe/Berlin"), read from the TZif file under
//        $TZDIR or /usr/share/zoneinfo (own parser: its transitions, and the
//        POSIX rule of its footer for times after the last one).
//    Throws std::invalid_argument naming the spec and why (unknown zone,
//    malformed offset, unreadable file). Immutable afterwards: thread-safe.
//  * TimeZone::to_utc(local) maps a local wall-clock time (seconds since
//    1970-01-01 00:00 as if it were UTC) to UTC seconds:
//      - a time that exists once: that instant (kind Exact);
//      - a time in a gap (clocks moved forward, e.g. 02:30 on the day DST
//        starts in Berlin): read with the offset in force before the gap,
//        i.e. 02:30 CET = 03:30 CEST (kind Gap);
//      - a time that occurs twice (clocks moved back): the first of the two,
//        still in summer time (kind Overlap).
//  * NameTime(pattern, zone) reads a recording's start from its path.
//    Pattern syntax (strptime-like, matched whole, case-sensitive):
//      %Y 4-digit year, %y 2-digit year (2000-2099), %m month, %d day,
//      %H hour (00-23), %M minute, %S second (2 digits each), %j day of the
//      year (3 digits), %f fraction of a second (1-9 digits), %s seconds
//      since 1970 (UTC; the zone is not applied), %z a "+HHMM", "+HH:MM" or
//      "Z" in the name (overrides the zone), %% a percent sign, * any run of
//      characters (possibly none), ? any one character; anything else
//      matches itself.
//    The pattern is matched against the file name, or, when it holds k
//    slashes, against the last k+1 components of the path (so
//    "%Y%m%d/cam1_%H%M%S.mp4" reads the date from the folder).
//    A pattern needs a date (%Y or %y with %m and %d, or %Y/%y with %j) or
//    %s; the constructor throws std::invalid_argument otherwise, or for an
//    unknown directive. read(path) returns the UTC start with a note for
//    gap/overlap times, or std::nullopt when the name does not match (or
//    spells an impossible date). Immutable: thread-safe.
//  * recording_start(path, creation_time, name_time) decides videos.
//    recorded_at: the name's time when name_time is given and the name
//    matches (source "name"), else the creation_time tag when it is a date
//    (source "container"), else unknown (both empty). `warning` says when a
//    name does not match the pattern, a creation_time tag is not a date, or
//    the name's time lies in a DST gap or overlap.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vidsift {

struct UtcTime {
  std::int64_t seconds = 0;  // since 1970-01-01T00:00:00Z
  std::string fraction;      // decimal digits of the fraction of a second, no trailing zeros ("" = whole)
};

std::optional<UtcTime> parse_iso_utc(const std::string& text);
std::string format_iso_utc(const UtcTime& t);

class TimeZone {
 public:
  enum class Kind { Exact, Gap, Overlap };
  struct Resolved {
    std::int64_t utc = 0;
    Kind kind = Kind::Exact;
  };

  static TimeZone parse(const std::string& spec);
  static TimeZone utc() { return TimeZone(); }

  Resolved to_utc(std::int64_t local) const;
  // The offset (seconds east of UTC) in force at `utc`.
  int offset_at(std::int64_t utc) const;
  const std::string& name() const { return name_; }

  // One half of a POSIX TZ rule ("M3.5.0/2"), public for the parser.
  struct RuleDate {
    char kind = 'M';  // 'M' month.week.day, 'J' Julian 1..365 without Feb 29, 'D' zero-based day 0..365
    int month = 0, week = 0, weekday = 0, day = 0;
    int time = 7200;  // local seconds after midnight
  };
  struct Rule {
    int std_offset = 0;  // seconds east of UTC
    int dst_offset = 0;
    bool has_dst = false;
    RuleDate start, end;
  };

 private:
  TimeZone() = default;
  int rule_offset(std::int64_t utc) const;

  std::string name_ = "UTC";
  std::vector<std::int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int> offsets_;               // offset in force from transitions_[i]
  int initial_offset_ = 0;                 // before the first transition
  std::optional<Rule> rule_;               // after the last transition
};

class NameTime {
 public:
  struct Result {
    UtcTime time;
    std::string note;  // non-empty for a time in a DST gap or overlap
  };

  NameTime(std::string pattern, TimeZone zone);
  std::optional<Result> read(const std::string& path) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  TimeZone zone_;
  int components_ = 1;  // path components the pattern covers
};

struct RecordingStart {
  std::string at;      // UTC ISO-8601, "" when unknown
  std::string source;  // "container", "name" or ""
  std::string warning;
};

RecordingStart recording_start(const std::string& path, const std::string& creation_time, const NameTime* name_time);

}  // namespace vidsift

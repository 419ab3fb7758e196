// Tests of wall-clock times: ISO text, time zones (real TZif files of the
// system's tzdata), and start times read from file names.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "vidsift/wallclock.h"

using namespace vidsift;

namespace {

std::string iso(const std::optional<UtcTime>& t) { return t ? format_iso_utc(*t) : "none"; }

std::string from_name(const std::string& pattern, const std::string& zone, const std::string& path,
                      std::string* note = nullptr) {
  const NameTime nt(pattern, TimeZone::parse(zone));
  const auto r = nt.read(path);
  if (!r) return "none";
  if (note) *note = r->note;
  return format_iso_utc(r->time);
}

}  // namespace

TEST(WallClock, IsoTextAsFfmpegGivesCreationTime) {
  EXPECT_EQ(iso(parse_iso_utc("2026-11-25T22:14:03.000000Z")), "2026-11-25T22:14:03Z");
  EXPECT_EQ(iso(parse_iso_utc("2026-11-25T22:14:03.250000Z")), "2026-11-25T22:14:03.25Z");
  EXPECT_EQ(iso(parse_iso_utc("2026-11-25 22:14:03")), "2026-11-25T22:14:03Z");
  EXPECT_EQ(iso(parse_iso_utc("2026-11-26T00:14:03+02:00")), "2026-11-25T22:14:03Z");
  EXPECT_EQ(iso(parse_iso_utc("2024-02-29T00:00:00-0530")), "2024-02-29T05:30:00Z");
  EXPECT_EQ(iso(parse_iso_utc("1969-12-31T23:59:59Z")), "1969-12-31T23:59:59Z");
  for (const char* bad : {"", "yesterday", "2026-02-29T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T22:14Z",
                          "2026-11-25T22:14:03Zjunk", "2026-13-01T00:00:00Z"})
    EXPECT_EQ(iso(parse_iso_utc(bad)), "none") << bad;
}

TEST(WallClock, OffsetsAndZoneNames) {
  EXPECT_EQ(TimeZone::parse("+02:00").offset_at(0), 7200);
  EXPECT_EQ(TimeZone::parse("-0530").offset_at(0), -19800);
  EXPECT_EQ(TimeZone::parse("UTC").offset_at(0), 0);
  EXPECT_EQ(TimeZone::parse("UTC+01:00").offset_at(0), 3600);
  const TimeZone berlin = TimeZone::parse("Europe/Berlin");
  EXPECT_EQ(berlin.offset_at(parse_iso_utc("2026-01-15T12:00:00Z")->seconds), 3600);
  EXPECT_EQ(berlin.offset_at(parse_iso_utc("2026-07-15T12:00:00Z")->seconds), 7200);
  // Beyond the file's last transition (2037 in a "fat" file), from the
  // POSIX rule of its footer.
  EXPECT_EQ(berlin.offset_at(parse_iso_utc("2050-07-15T12:00:00Z")->seconds), 7200);
  EXPECT_EQ(berlin.offset_at(parse_iso_utc("2050-12-15T12:00:00Z")->seconds), 3600);
  // Southern hemisphere: summer time around the new year.
  const TimeZone sydney = TimeZone::parse("Australia/Sydney");
  EXPECT_EQ(sydney.offset_at(parse_iso_utc("2026-01-15T00:00:00Z")->seconds), 11 * 3600);
  EXPECT_EQ(sydney.offset_at(parse_iso_utc("2060-01-15T00:00:00Z")->seconds), 11 * 3600);
  EXPECT_EQ(sydney.offset_at(parse_iso_utc("2060-07-15T00:00:00Z")->seconds), 10 * 3600);
  for (const char* bad : {"Mars/Olympus_Mons", "../etc/passwd", "/etc/passwd", "+25:00", "Europe/Berlin;rm", ""})
    EXPECT_THROW(TimeZone::parse(bad), std::invalid_argument) << bad;
}

TEST(WallClock, NameMatchesWithAndWithoutZone) {
  EXPECT_EQ(from_name("cam1_%Y%m%d_%H%M%S.mp4", "UTC", "/a/b/cam1_20261125_221403.mp4"), "2026-11-25T22:14:03Z");
  EXPECT_EQ(from_name("cam1_%Y%m%d_%H%M%S.mp4", "Europe/Berlin", "cam1_20261125_221403.mp4"), "2026-11-25T21:14:03Z");
  EXPECT_EQ(from_name("cam1_%Y%m%d_%H%M%S.mp4", "Europe/Berlin", "cam1_20260715_221403.mp4"), "2026-07-15T20:14:03Z");
  EXPECT_EQ(from_name("cam1_%Y%m%d_%H%M%S.mp4", "-0530", "cam1_20261125_221403.mp4"), "2026-11-26T03:44:03Z");
  EXPECT_EQ(from_name("*_%Y-%m-%d_%H-%M-%S.%f.*", "+02:00", "/x/gate 3_2026-11-25_22-14-03.50.mkv"),
            "2026-11-25T20:14:03.5Z");
  EXPECT_EQ(from_name("%Y%m%d/%H%M%S.mp4", "UTC", "/archive/cam1/20261125/221403.mp4"), "2026-11-25T22:14:03Z");
  EXPECT_EQ(from_name("%y%j_%H%M.avi", "UTC", "26060_0800.avi"), "2026-03-01T08:00:00Z");
  EXPECT_EQ(from_name("rec_%s.mp4", "Europe/Berlin", "rec_1764108843.mp4"), "2025-11-25T22:14:03Z");  // %s is UTC
  EXPECT_EQ(from_name("%Y%m%dT%H%M%S%z.mp4", "Europe/Berlin", "20261125T221403+0100.mp4"), "2026-11-25T21:14:03Z");
}

TEST(WallClock, NameThatDoesNotMatchGivesNothing) {
  for (const char* path : {"cam2_20261125_221403.mp4", "cam1_2026112_221403.mp4", "cam1_20261125_221403.mkv",
                           "cam1_20261131_221403.mp4", "cam1_20261125_251403.mp4", "/d/cam1_20261125_221403.mp4/x"})
    EXPECT_EQ(from_name("cam1_%Y%m%d_%H%M%S.mp4", "UTC", path), "none") << path;
  EXPECT_EQ(from_name("%Y%m%d/%H%M%S.mp4", "UTC", "221403.mp4"), "none");
  EXPECT_THROW(NameTime("cam_%H%M%S.mp4", TimeZone::utc()), std::invalid_argument);  // no date
  EXPECT_THROW(NameTime("cam_%Y%m%d_%Q.mp4", TimeZone::utc()), std::invalid_argument);
}

TEST(WallClock, DaylightSavingGapAndOverlap) {
  // Berlin 2026: summer time from 29 March 01:00Z (02:00 -> 03:00 local)
  // to 25 October 01:00Z (03:00 -> 02:00 local).
  std::string note;
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20260329_013000", &note), "2026-03-29T00:30:00Z");
  EXPECT_EQ(note, "");
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20260329_033000", &note), "2026-03-29T01:30:00Z");
  EXPECT_EQ(note, "");
  // 02:30 does not exist: read with the offset before the gap (+01:00).
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20260329_023000", &note), "2026-03-29T01:30:00Z");
  EXPECT_NE(note.find("does not exist"), std::string::npos) << note;
  // 02:30 happens twice: the first one, still summer time (+02:00).
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20261025_023000", &note), "2026-10-25T00:30:00Z");
  EXPECT_NE(note.find("occurs twice"), std::string::npos) << note;
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20261025_033000", &note), "2026-10-25T02:30:00Z");
  EXPECT_EQ(note, "");
  // The same from the footer rule, far beyond the transitions listed.
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20500327_023000", &note), "2050-03-27T01:30:00Z");
  EXPECT_NE(note.find("does not exist"), std::string::npos) << note;
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "Europe/Berlin", "20501030_023000", &note), "2050-10-30T00:30:00Z");
  EXPECT_NE(note.find("occurs twice"), std::string::npos) << note;
  // New York 2026: 8 March 02:30 does not exist, 1 November 01:30 twice.
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "America/New_York", "20260308_023000", &note), "2026-03-08T07:30:00Z");
  EXPECT_EQ(from_name("%Y%m%d_%H%M%S", "America/New_York", "20261101_013000", &note), "2026-11-01T05:30:00Z");
}

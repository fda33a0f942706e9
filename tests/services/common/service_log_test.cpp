// A service log line is one JSON object with the identity, level, message and a UTC timestamp.
#include "services/common/service_log.hpp"

#include "tests/support/read_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <unistd.h>

namespace proofmesh::services {
namespace {

TEST(service_log, a_line_carries_identity_level_message_and_utc_time) {
  testing::temp_dir dir;
  const std::string path = dir.str("err");
  std::fflush(stderr);
  const int saved = ::dup(2);
  ASSERT_NE(std::freopen(path.c_str(), "w", stderr), nullptr);
  const auto before = std::chrono::system_clock::now();
  service_log({{"service", "worker"}, {"worker", "w-0"}}).line("info", "said \"hi\"\nand left");
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  const std::string text = testing::read_file(path);
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["service"], "worker");
  EXPECT_EQ(j["worker"], "w-0");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["message"], "said \"hi\"\nand left");
  const std::string time = j["time"];
  ASSERT_TRUE(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << time;
  // The stamp is now, in UTC: its year and day agree with the system clock's.
  const std::time_t secs = std::chrono::system_clock::to_time_t(before);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &utc);
  EXPECT_EQ(time.substr(0, 10), day);
}

} // namespace
} // namespace proofmesh::services

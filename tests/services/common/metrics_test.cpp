// Prometheus text exposition of our metrics: counters and gauges with labels, HELP and TYPE once
// per name, and histograms with cumulative buckets, +Inf, sum and count.
#include "services/common/metrics.hpp"

#include <gtest/gtest.h>

namespace proofmesh::services {
namespace {

TEST(metrics, counters_gauges_and_histograms_render_as_prometheus_text) {
  metrics_registry r;
  r.counter("pm_tasks_total", "tasks", "status=\"ok\"").add(3);
  r.counter("pm_tasks_total", "tasks", "status=\"failed\"").add(1);
  r.gauge("pm_in_flight", "in flight").set(-2);
  histogram& h = r.latency("pm_task_seconds", "task time", "role=\"verifier\"");
  h.observe(0.0004); // <= 0.001
  h.observe(0.003);  // <= 0.005
  h.observe(0.003);
  h.observe(1000);   // past every bound: +Inf only
  const std::string text = r.render();
  EXPECT_NE(text.find("# HELP pm_tasks_total tasks\n# TYPE pm_tasks_total counter\n"
                      "pm_tasks_total{status=\"ok\"} 3\npm_tasks_total{status=\"failed\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("# TYPE pm_tasks_total", text.find("# TYPE pm_tasks_total") + 1),
            std::string::npos); // described once
  EXPECT_NE(text.find("pm_in_flight -2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE pm_task_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("pm_task_seconds_bucket{role=\"verifier\",le=\"0.001\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("pm_task_seconds_bucket{role=\"verifier\",le=\"0.0025\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("pm_task_seconds_bucket{role=\"verifier\",le=\"0.005\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("pm_task_seconds_bucket{role=\"verifier\",le=\"600\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("pm_task_seconds_bucket{role=\"verifier\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("pm_task_seconds_sum{role=\"verifier\"} 1000.006400\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("pm_task_seconds_count{role=\"verifier\"} 4\n"), std::string::npos);
}

} // namespace
} // namespace proofmesh::services

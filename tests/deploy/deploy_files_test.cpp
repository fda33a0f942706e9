// The deploy files (systemd units, the compose file, the Kubernetes manifests) against the code
// they run: every service is named in each, the Kubernetes documents are well formed (apiVersion,
// kind, a name) with a Deployment per service, Redis as a StatefulSet, Services, a ConfigMap and
// GPU requests for the roles, and every flag the files pass exists in the binary's --help, so the
// files cannot drift from the programs.
#include "tests/support/read_file.hpp"
#include "tests/support/run_command.hpp"
#include "tests/support/source_path.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <set>

namespace proofmesh {
namespace {

std::string deploy(const std::string& file) {
  return testing::read_file(testing::source_path("deploy/" + file));
}

std::vector<std::string> split_documents(const std::string& yaml) {
  std::vector<std::string> docs;
  size_t start = 0;
  for (size_t at = yaml.find("\n---\n"); ; at = yaml.find("\n---\n", start)) {
    docs.push_back(yaml.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 5;
  }
  return docs;
}

// Every "--flag" on the lines of `text` that are not comments.
std::set<std::string> flags_in(const std::string& text) {
  std::set<std::string> out;
  std::regex flag("--([a-z][a-z-]+)");
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    for (auto it = std::sregex_iterator(line.begin(), line.end(), flag);
         it != std::sregex_iterator(); ++it) {
      out.insert((*it)[0]);
    }
  }
  return out;
}

TEST(deploy_files, kubernetes_manifests_are_complete) {
  std::vector<std::string> docs = split_documents(deploy("k8s/proofmesh.yaml"));
  std::multiset<std::string> kinds;
  std::set<std::string> names;
  for (const std::string& d : docs) {
    std::smatch kind, name;
    ASSERT_TRUE(std::regex_search(d, std::regex("(^|\\n)apiVersion: \\S+"))) << d;
    ASSERT_TRUE(std::regex_search(d, kind, std::regex("(^|\\n)kind: (\\w+)"))) << d;
    ASSERT_TRUE(std::regex_search(d, name, std::regex("\\nmetadata:\\n  name: (\\S+)"))) << d;
    kinds.insert(kind[2]);
    names.insert(kind[2].str() + "/" + name[1].str());
    if (kind[2] == "Deployment" && name[1] != "proofmesh-coordinator" &&
        name[1] != "proofmesh-gateway") { // the roles run models: each wants a GPU
      EXPECT_NE(d.find("nvidia.com/gpu: 1"), std::string::npos) << name[1];
    }
  }
  for (const char* n : {"Deployment/proofmesh-coordinator", "Deployment/proofmesh-worker",
                        "Deployment/proofmesh-generator",
                        "Deployment/proofmesh-verifier", "Deployment/proofmesh-meta-verifier",
                        "Deployment/proofmesh-gateway", "Service/proofmesh-gateway",
                        "StatefulSet/proofmesh-redis", "Service/proofmesh-redis",
                        "Service/proofmesh-coordinator", "ConfigMap/proofmesh"}) {
    EXPECT_TRUE(names.contains(n)) << n;
  }
}

TEST(deploy_files, every_file_names_every_service) {
  const std::string compose = deploy("compose/compose.yaml");
  for (const char* s : {"\n  redis:", "\n  coordinator:", "\n  gateway:", "\n  worker:",
                        "\n  generator:",
                        "\n  verifier:", "\n  meta-verifier:"}) {
    EXPECT_NE(compose.find(s), std::string::npos) << s;
  }
  for (const char* role : {"\"generator\"", "\"verifier\"", "\"meta_verifier\""}) {
    EXPECT_NE(compose.find(role), std::string::npos) << role;
    EXPECT_NE(deploy("k8s/proofmesh.yaml").find(role), std::string::npos) << role;
  }
  EXPECT_NE(deploy("systemd/proofmesh-coordinator.service").find("proofmesh-coordinator"),
            std::string::npos);
  EXPECT_NE(deploy("systemd/proofmesh-worker@.service").find("proofmesh-worker"),
            std::string::npos);
  EXPECT_NE(deploy("systemd/proofmesh-gateway.service").find("proofmesh-gateway"),
            std::string::npos);
  // The image holds every binary the files run.
  const std::string image = testing::read_file(testing::source_path("Dockerfile"));
  for (const char* bin : {"/proofmesh ", "/proofmesh-gateway ", "/proofmesh-coordinator ",
                          "/proofmesh-worker "}) {
    EXPECT_NE(image.find(bin), std::string::npos) << bin;
  }
}

TEST(deploy_files, every_flag_they_pass_exists) {
  testing::temp_dir dir;
  const std::string bin = std::string(PM_BUILD_DIR) + "/";
  const std::string worker_help =
      testing::run_command(bin + "proofmesh-worker --help", dir.str("e")).out;
  const std::string coordinator_help =
      testing::run_command(bin + "proofmesh-coordinator --help", dir.str("e")).out;
  const std::string gateway_help =
      testing::run_command(bin + "proofmesh-gateway --help", dir.str("e")).out;
  ASSERT_NE(gateway_help.find("--api-keys"), std::string::npos) << gateway_help;
  ASSERT_NE(worker_help.find("--role"), std::string::npos) << worker_help;
  ASSERT_NE(coordinator_help.find("--redis-host"), std::string::npos) << coordinator_help;
  for (const std::string& file : {std::string("compose/compose.yaml"),
                                  std::string("k8s/proofmesh.yaml"),
                                  std::string("systemd/proofmesh-coordinator.service"),
                                  std::string("systemd/proofmesh-worker@.service"),
                                  std::string("systemd/proofmesh-gateway.service")}) {
    const std::string text = deploy(file);
    for (const std::string& flag : flags_in(text)) {
      if (flag == "--appendonly" || flag == "--requirepass" || flag == "--scale" ||
          flag == "--replicas") {
        continue; // redis-server's, docker's and kubectl's own
      }
      EXPECT_TRUE(worker_help.find(flag) != std::string::npos ||
                  coordinator_help.find(flag) != std::string::npos ||
                  gateway_help.find(flag) != std::string::npos)
          << file << ": " << flag << " is not a flag of ours";
    }
  }
}

// No deploy file puts the Redis password on a command line, where /proc shows it to every user:
// the services read PROOFMESH_REDIS_PASSWORD, Redis a config file.
TEST(deploy_files, the_redis_password_is_on_no_command_line) {
  for (const std::string& file : {std::string("compose/compose.yaml"),
                                  std::string("k8s/proofmesh.yaml"),
                                  std::string("systemd/proofmesh-coordinator.service"),
                                  std::string("systemd/proofmesh-gateway.service")}) {
    const std::string text = deploy(file);
    EXPECT_EQ(text.find("--redis-password"), std::string::npos) << file;
    EXPECT_EQ(text.find("--requirepass"), std::string::npos) << file;
  }
  const std::string k8s = deploy("k8s/proofmesh.yaml");
  EXPECT_NE(k8s.find("name: PROOFMESH_REDIS_PASSWORD"), std::string::npos);
  EXPECT_NE(deploy("compose/compose.yaml").find("PROOFMESH_REDIS_PASSWORD:"), std::string::npos);
}

// The combined worker of compose and Kubernetes serves all three roles, with a coordinator socket
// for each in the same order, and its engine flags are the engine_config's.
TEST(deploy_files, combined_workers_serve_every_role_from_one_engine) {
  for (const std::string& file : {std::string("compose/compose.yaml"),
                                  std::string("k8s/proofmesh.yaml")}) {
    const std::string text = deploy(file);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        text, m, std::regex("\"--roles\", \"generator,verifier,meta_verifier\",\\s*"
                            "\"--coordinator\", \"([^\"]+)\"")))
        << file;
    const std::string endpoints = m[1];
    EXPECT_TRUE(std::regex_match(endpoints, std::regex("tcp://[^,]+:5601,tcp://[^,]+:5602,"
                                                       "tcp://[^,]+:5603")))
        << file << ": " << endpoints;
    EXPECT_NE(text.find("\"--kv-memory-fraction\""), std::string::npos) << file;
  }
}

// The ConfigMap's TOML settings are flags too (CLI11 reads `name = value` as --name).
TEST(deploy_files, every_config_setting_is_a_flag) {
  testing::temp_dir dir;
  const std::string bin = std::string(PM_BUILD_DIR) + "/";
  const std::string help =
      testing::run_command(bin + "proofmesh-coordinator --help", dir.str("e")).out +
      testing::run_command(bin + "proofmesh-gateway --help", dir.str("e")).out;
  const std::string k8s = deploy("k8s/proofmesh.yaml");
  std::regex setting("\n    ([a-z][a-z-]+) = ");
  int n = 0;
  for (auto it = std::sregex_iterator(k8s.begin(), k8s.end(), setting);
       it != std::sregex_iterator(); ++it, ++n) {
    EXPECT_NE(help.find("--" + (*it)[1].str()), std::string::npos) << (*it)[1];
  }
  EXPECT_GE(n, 8);
}

} // namespace
} // namespace proofmesh

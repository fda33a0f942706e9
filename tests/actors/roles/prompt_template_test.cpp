// Prompt templates against the reference: each of the four official templates
// (../shared/dsm2/templates.json) rendered with the reference's arguments must equal the
// reference's rendering in rendered-examples.jsonl byte for byte; and what Python's str.format
// would do differently is refused at parse time.
#include "actors/roles/prompt_template.hpp"

#include "actors/common/error.hpp"
#include "tests/support/read_file.hpp"
#include "tests/support/shared_path.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace proofmesh::roles {
namespace {

TEST(prompt_template, renders_the_reference_examples_byte_for_byte) {
  PM_SKIP_WITHOUT_SHARED();
  const std::string dir = testing::shared_path("dsm2/");
  nlohmann::json templates = nlohmann::json::parse(testing::read_file(dir + "templates.json"));
  std::istringstream lines(testing::read_file(dir + "rendered-examples.jsonl"));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line)) {
    nlohmann::json ex = nlohmann::json::parse(line);
    const std::string name = ex["template"];
    SCOPED_TRACE(name);
    prompt_template t(templates.at(name).get<std::string>());
    std::map<std::string, std::string, std::less<>> args;
    for (auto& [k, v] : ex["args"].items()) {
      args[k] = v.get<std::string>();
    }
    const std::string rendered = t.render(args);
    const std::string expected = ex["rendered"];
    EXPECT_EQ(rendered.size(), expected.size());
    EXPECT_TRUE(rendered == expected);
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(prompt_template, braces_and_fields) {
  prompt_template t("{{literal}} {a} and {b_2}, {a} again }}");
  EXPECT_EQ(t.render({{"a", "x{y}"}, {"b_2", "z"}, {"unused", "!"}}),
            "{literal} x{y} and z, x{y} again }");
  EXPECT_EQ(t.fields(), (std::vector<std::string>{"a", "b_2", "a"}));
  EXPECT_THROW(t.render({{"a", "x"}}), input_error); // b_2 has no value
}

TEST(prompt_template, refuses_what_python_would_read_otherwise) {
  for (const char* bad : {"{0}", "{}", "{a.b}", "{a[0]}", "{a!r}", "{a:>10}", "x } y", "{open",
                          "{ a}"}) {
    EXPECT_THROW(prompt_template{bad}, input_error) << bad;
  }
}

} // namespace
} // namespace proofmesh::roles

#include "actors/transport/wire_codec.hpp"

#include "schemas/mesh_generated.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace proofmesh::transport {

namespace w = proofmesh::wire;
namespace fb = flatbuffers;

const char* role_name(role r) {
  switch (r) {
    case role::role_generator: return "generator";
    case role::role_verifier: return "verifier";
    case role::role_meta_verifier: return "meta_verifier";
  }
  return "unknown";
}

const char* wire_errc_name(wire_errc e) {
  switch (e) {
    case wire_errc::wire_errc_too_large: return "too_large";
    case wire_errc::wire_errc_malformed: return "malformed";
    case wire_errc::wire_errc_wrong_version: return "wrong_version";
    case wire_errc::wire_errc_empty_payload: return "empty_payload";
    case wire_errc::wire_errc_field_too_long: return "field_too_long";
    case wire_errc::wire_errc_bad_value: return "bad_value";
  }
  return "unknown";
}

uint64_t wire_drops::total() const {
  uint64_t sum = 0;
  for (const auto& c : counts_) {
    sum += c.load(std::memory_order_relaxed);
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Encode
// ---------------------------------------------------------------------------------------------

namespace {

// Strings go in with their length (CreateString of std::string), never through c_str(): text
// may hold NUL bytes, and the decoder reads every byte the length covers.
struct payload_writer {
  fb::FlatBufferBuilder& b;

  fb::Offset<fb::String> str(const std::string& s) const { return b.CreateString(s); }

  // Absent when empty, so a task or result without logprobs costs nothing.
  fb::Offset<fb::Vector<fb::Offset<w::TokenLogprob>>> logprobs(
      const std::vector<token_logprob>& list) const {
    if (list.empty()) return 0;
    std::vector<fb::Offset<w::TokenLogprob>> tokens;
    tokens.reserve(list.size());
    for (const token_logprob& t : list) {
      std::vector<fb::Offset<w::TopLogprob>> top;
      for (const top_logprob& a : t.top) {
        top.push_back(w::CreateTopLogprob(b, str(a.token), a.logprob));
      }
      tokens.push_back(w::CreateTokenLogprob(b, str(t.token), t.logprob, b.CreateVector(top)));
    }
    return b.CreateVector(tokens);
  }

  std::pair<w::Payload, fb::Offset<void>> operator()(const task_msg& t) const {
    std::pair<w::TaskInput, fb::Offset<void>> input = std::visit(
        [&](const auto& in) -> std::pair<w::TaskInput, fb::Offset<void>> {
          using T = std::decay_t<decltype(in)>;
          if constexpr (std::is_same_v<T, generate_input>) {
            return {w::TaskInput::GenerateInput,
                    w::CreateGenerateInput(b, str(in.problem), str(in.refinement_context))
                        .Union()};
          } else if constexpr (std::is_same_v<T, verify_input>) {
            return {w::TaskInput::VerifyInput,
                    w::CreateVerifyInput(b, str(in.problem), str(in.solution)).Union()};
          } else if constexpr (std::is_same_v<T, meta_verify_input>) {
            return {w::TaskInput::MetaVerifyInput,
                    w::CreateMetaVerifyInput(b, str(in.problem), str(in.solution), str(in.rating))
                        .Union()};
          } else {
            std::vector<fb::Offset<w::ChatMessage>> turns;
            for (const chat_turn& m : in.messages) {
              turns.push_back(w::CreateChatMessage(b, str(m.role), str(m.content)));
            }
            std::vector<fb::Offset<fb::String>> stops;
            for (const std::string& x : in.stop) stops.push_back(str(x));
            return {w::TaskInput::CompleteInput,
                    w::CreateCompleteInput(b, str(in.prompt), b.CreateVector(turns),
                                           b.CreateVector(stops))
                        .Union()};
          }
        },
        t.input);
    const sampling_spec& s = t.sampling;
    auto sampling = w::CreateSampling(b, s.temperature, s.top_p, s.top_k, s.max_tokens, s.seed,
                                      s.stream, s.logprobs);
    auto task = w::CreateTask(b, str(t.task_id), str(t.job_id),
                              static_cast<w::Role>(t.task_role()), input.first, input.second,
                              sampling, t.attempt);
    return {w::Payload::Task, task.Union()};
  }

  std::pair<w::Payload, fb::Offset<void>> operator()(const task_result_msg& r) const {
    std::pair<w::TaskOutput, fb::Offset<void>> output = std::visit(
        [&](const auto& out) -> std::pair<w::TaskOutput, fb::Offset<void>> {
          using T = std::decay_t<decltype(out)>;
          if constexpr (std::is_same_v<T, generate_output>) {
            return {w::TaskOutput::GenerateOutput,
                    w::CreateGenerateOutput(b, str(out.solution), str(out.self_eval),
                                            out.self_eval_score).Union()};
          } else if constexpr (std::is_same_v<T, verify_output>) {
            return {w::TaskOutput::VerifyOutput,
                    w::CreateVerifyOutput(b, str(out.rating), out.score).Union()};
          } else if constexpr (std::is_same_v<T, meta_verify_output>) {
            return {w::TaskOutput::MetaVerifyOutput,
                    w::CreateMetaVerifyOutput(b, str(out.analysis), out.quality).Union()};
          } else if constexpr (std::is_same_v<T, complete_output>) {
            return {w::TaskOutput::CompleteOutput,
                    w::CreateCompleteOutput(b, str(out.text), str(out.finish_reason),
                                            logprobs(out.logprobs), out.logprobs_offset)
                        .Union()};
          } else {
            return {w::TaskOutput::NONE, 0};
          }
        },
        r.output);
    auto result = w::CreateTaskResult(
        b, str(r.task_id), static_cast<w::TaskStatus>(r.status), output.first, output.second,
        r.error.empty() ? 0 : str(r.error), r.prompt_tokens, r.completion_tokens, r.elapsed_ms);
    return {w::Payload::TaskResult, result.Union()};
  }

  std::pair<w::Payload, fb::Offset<void>> operator()(const credit_msg& c) const {
    return {w::Payload::Credit, w::CreateCredit(b, c.slots).Union()};
  }
  std::pair<w::Payload, fb::Offset<void>> operator()(const heartbeat_msg& h) const {
    return {w::Payload::Heartbeat,
            w::CreateHeartbeat(b, str(h.worker_id), static_cast<w::Role>(h.worker_role),
                               h.in_flight, h.sent_at_ms, h.capacity)
                .Union()};
  }
  std::pair<w::Payload, fb::Offset<void>> operator()(const cancel_msg& c) const {
    return {w::Payload::Cancel, w::CreateCancel(b, str(c.task_id)).Union()};
  }
  std::pair<w::Payload, fb::Offset<void>> operator()(const progress_msg& p) const {
    return {w::Payload::Progress,
            w::CreateProgress(b, str(p.task_id), p.completion_tokens, str(p.text_delta),
                              p.text_offset, logprobs(p.logprobs), p.logprobs_offset)
                .Union()};
  }
};

} // namespace

std::vector<uint8_t> encode(const wire_message& message) {
  fb::FlatBufferBuilder b(256);
  auto [type, payload] = std::visit(payload_writer{b}, message);
  w::FinishEnvelopeBuffer(b, w::CreateEnvelope(b, wire_schema_version, type, payload));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

// ---------------------------------------------------------------------------------------------
// Decode: verified envelope -> checked fields -> plain structs
// ---------------------------------------------------------------------------------------------

namespace {

// A check failed: the reason travels up as the exception-free early return of each reader.
struct field_reader {
  const wire_limits& limits;
  std::optional<wire_errc> error;

  bool fail(wire_errc e) {
    if (!error) {
      error = e;
    }
    return false;
  }
  std::string text(const fb::String* s, size_t cap) {
    if (s == nullptr) {
      return {};
    }
    if (s->size() > cap) {
      fail(wire_errc::wire_errc_field_too_long);
      return {};
    }
    return s->str();
  }
  std::string id(const fb::String* s) {
    std::string v = text(s, limits.max_id_bytes);
    if (!error && v.empty()) {
      fail(wire_errc::wire_errc_bad_value); // required ids are non-empty
    }
    return v;
  }
  std::string body(const fb::String* s) { return text(s, limits.max_text_bytes); }
  // Token logprobs: counts capped, each logprob finite and at most 0, tokens an id's size.
  std::vector<token_logprob> logprobs(const fb::Vector<fb::Offset<w::TokenLogprob>>* v) {
    std::vector<token_logprob> out;
    if (v == nullptr) return out;
    if (v->size() > limits.max_logprob_tokens) {
      fail(wire_errc::wire_errc_field_too_long);
      return out;
    }
    auto logprob = [&](float x) {
      return x <= 0 ? finite(x) : (fail(wire_errc::wire_errc_bad_value), 0.f);
    };
    for (const w::TokenLogprob* t : *v) {
      if (t == nullptr) continue;
      token_logprob one{.token = text(t->token(), limits.max_id_bytes),
                        .logprob = logprob(t->logprob())};
      if (t->top() != nullptr) {
        if (t->top()->size() > static_cast<size_t>(limits.max_top_logprobs)) {
          fail(wire_errc::wire_errc_field_too_long);
          return out;
        }
        for (const w::TopLogprob* a : *t->top()) {
          if (a != nullptr) {
            one.top.push_back({text(a->token(), limits.max_id_bytes), logprob(a->logprob())});
          }
        }
      }
      out.push_back(std::move(one));
    }
    return out;
  }
  float finite(float v) {
    if (!std::isfinite(v)) {
      fail(wire_errc::wire_errc_bad_value);
    }
    return v;
  }
  bool valid_role(w::Role r) {
    return r == w::Role::generator || r == w::Role::verifier || r == w::Role::meta_verifier ||
           fail(wire_errc::wire_errc_bad_value);
  }
};

sampling_spec read_sampling(const w::Sampling* s, field_reader& f) {
  sampling_spec out;
  if (s == nullptr) {
    return out;
  }
  out = {.temperature = f.finite(s->temperature()), .top_p = f.finite(s->top_p()),
         .top_k = s->top_k(), .max_tokens = s->max_tokens(), .seed = s->seed(),
         .stream = s->stream(), .logprobs = s->logprobs()};
  if (out.temperature < 0 || out.temperature > 100 || !(out.top_p > 0 && out.top_p <= 1) ||
      out.top_k < 0 || out.max_tokens < 1 || out.max_tokens > f.limits.max_tokens ||
      out.logprobs < -1 || out.logprobs > f.limits.max_top_logprobs) {
    f.fail(wire_errc::wire_errc_bad_value);
  }
  return out;
}

// A union's type tag may be set while its value is absent (the Verifier accepts that): every
// union read below checks for null before use.
std::optional<wire_message> read_task(const w::Task* t, field_reader& f) {
  task_msg out{.task_id = f.id(t->task_id()), .job_id = f.id(t->job_id())};
  if (t->input() == nullptr) {
    f.fail(wire_errc::wire_errc_bad_value); // a task without input
    return std::nullopt;
  }
  switch (t->input_type()) {
    case w::TaskInput::GenerateInput: {
      const auto* in = t->input_as_GenerateInput();
      out.input = generate_input{f.body(in->problem()), f.body(in->refinement_context())};
      break;
    }
    case w::TaskInput::VerifyInput: {
      const auto* in = t->input_as_VerifyInput();
      out.input = verify_input{f.body(in->problem()), f.body(in->solution())};
      break;
    }
    case w::TaskInput::MetaVerifyInput: {
      const auto* in = t->input_as_MetaVerifyInput();
      out.input = meta_verify_input{f.body(in->problem()), f.body(in->solution()),
                                    f.body(in->rating())};
      break;
    }
    case w::TaskInput::CompleteInput: {
      const auto* in = t->input_as_CompleteInput();
      complete_input c{.prompt = f.body(in->prompt())};
      if (in->messages() != nullptr) {
        if (in->messages()->size() > f.limits.max_messages) {
          f.fail(wire_errc::wire_errc_field_too_long);
          return std::nullopt;
        }
        for (const w::ChatMessage* m : *in->messages()) {
          if (m == nullptr) continue;
          c.messages.push_back({f.text(m->role(), f.limits.max_id_bytes), f.body(m->content())});
          if (c.messages.back().role.empty()) f.fail(wire_errc::wire_errc_bad_value);
        }
      }
      if (in->stop() != nullptr) {
        if (in->stop()->size() > f.limits.max_stop_strings) {
          f.fail(wire_errc::wire_errc_field_too_long);
          return std::nullopt;
        }
        for (const fb::String* x : *in->stop()) {
          c.stop.push_back(f.text(x, f.limits.max_id_bytes));
          if (c.stop.back().empty()) f.fail(wire_errc::wire_errc_bad_value);
        }
      }
      if (c.messages.empty() == c.prompt.empty()) {
        f.fail(wire_errc::wire_errc_bad_value); // exactly one of a prompt and a chat
      }
      out.input = std::move(c);
      break;
    }
    default:
      f.fail(wire_errc::wire_errc_bad_value); // a task without input
      return std::nullopt;
  }
  if (f.valid_role(t->role())) {
    if (std::holds_alternative<complete_input>(out.input)) {
      out.pool = static_cast<role>(t->role()); // any pool serves a raw completion
    } else if (static_cast<role>(t->role()) != out.task_role()) {
      f.fail(wire_errc::wire_errc_bad_value); // a verifier task carrying a generator's input
    }
  }
  out.sampling = read_sampling(t->sampling(), f);
  out.attempt = t->attempt();
  return out;
}

std::optional<wire_message> read_result(const w::TaskResult* r, field_reader& f) {
  task_result_msg out{.task_id = f.id(r->task_id()),
                      .status = static_cast<task_status>(r->status()),
                      .error = f.body(r->error()),
                      .prompt_tokens = r->prompt_tokens(),
                      .completion_tokens = r->completion_tokens(),
                      .elapsed_ms = r->elapsed_ms()};
  if (r->output() == nullptr && r->output_type() != w::TaskOutput::NONE) {
    f.fail(wire_errc::wire_errc_bad_value);
    return std::nullopt;
  }
  switch (r->output_type()) {
    case w::TaskOutput::NONE:
      break;
    case w::TaskOutput::GenerateOutput: {
      const auto* o = r->output_as_GenerateOutput();
      out.output = generate_output{f.body(o->solution()), f.body(o->self_eval()),
                                   f.finite(o->self_eval_score())};
      break;
    }
    case w::TaskOutput::VerifyOutput: {
      const auto* o = r->output_as_VerifyOutput();
      out.output = verify_output{f.body(o->rating()), f.finite(o->score())};
      break;
    }
    case w::TaskOutput::MetaVerifyOutput: {
      const auto* o = r->output_as_MetaVerifyOutput();
      out.output = meta_verify_output{f.body(o->analysis()), f.finite(o->quality())};
      break;
    }
    case w::TaskOutput::CompleteOutput: {
      const auto* o = r->output_as_CompleteOutput();
      complete_output c{f.body(o->text()), f.text(o->finish_reason(), f.limits.max_id_bytes),
                        f.logprobs(o->logprobs()), o->logprobs_offset()};
      if (c.finish_reason != "stop" && c.finish_reason != "length") {
        f.fail(wire_errc::wire_errc_bad_value);
      }
      out.output = std::move(c);
      break;
    }
    default:
      f.fail(wire_errc::wire_errc_bad_value);
  }
  // ok carries an output; unparseable and failed carry none.
  const bool has_output = !std::holds_alternative<std::monostate>(out.output);
  const bool ok = out.status == task_status::task_status_ok;
  if (r->status() > w::TaskStatus::MAX || has_output != ok) {
    f.fail(wire_errc::wire_errc_bad_value);
  }
  return out;
}

} // namespace

decode_result decode(std::span<const uint8_t> bytes, const wire_limits& limits) {
  if (bytes.size() > limits.max_message_bytes) {
    return {.error = wire_errc::wire_errc_too_large};
  }
  if (bytes.size() < sizeof(fb::uoffset_t) + fb::kFileIdentifierLength ||
      !w::EnvelopeBufferHasIdentifier(bytes.data())) {
    return {.error = wire_errc::wire_errc_malformed};
  }
  // Depth and table-count caps bound the Verifier's own work on hostile input. Token logprobs
  // are a table each (and one per alternative), so the count follows the size: no table takes
  // fewer than 4 bytes, and the work stays linear in a buffer already capped above.
  fb::Verifier verifier(bytes.data(), bytes.size(), /*max_depth=*/16,
                        /*max_tables=*/static_cast<fb::uoffset_t>(
                            std::max<size_t>(64, limits.max_message_bytes / 4)));
  if (!w::VerifyEnvelopeBuffer(verifier)) {
    return {.error = wire_errc::wire_errc_malformed};
  }
  const w::Envelope* env = w::GetEnvelope(bytes.data());
  if (env->schema_version() != wire_schema_version) {
    return {.error = wire_errc::wire_errc_wrong_version};
  }
  if (env->payload() == nullptr) {
    return {.error = wire_errc::wire_errc_empty_payload};
  }
  field_reader f{.limits = limits, .error = std::nullopt};
  std::optional<wire_message> out;
  switch (env->payload_type()) {
    case w::Payload::Task:
      out = read_task(env->payload_as_Task(), f);
      break;
    case w::Payload::TaskResult:
      out = read_result(env->payload_as_TaskResult(), f);
      break;
    case w::Payload::Credit: {
      const uint32_t slots = env->payload_as_Credit()->slots();
      if (slots == 0 || slots > limits.max_slots) {
        f.fail(wire_errc::wire_errc_bad_value);
      }
      out = credit_msg{slots};
      break;
    }
    case w::Payload::Heartbeat: {
      const auto* h = env->payload_as_Heartbeat();
      f.valid_role(h->role());
      out = heartbeat_msg{f.id(h->worker_id()), static_cast<role>(h->role()), h->in_flight(),
                          h->sent_at_ms(), h->capacity()};
      if (h->capacity() > limits.max_slots) f.fail(wire_errc::wire_errc_bad_value);
      break;
    }
    case w::Payload::Cancel:
      out = cancel_msg{f.id(env->payload_as_Cancel()->task_id())};
      break;
    case w::Payload::Progress: {
      const auto* p = env->payload_as_Progress();
      out = progress_msg{f.id(p->task_id()), p->completion_tokens(), f.body(p->text_delta()),
                         p->text_offset(), f.logprobs(p->logprobs()), p->logprobs_offset()};
      break;
    }
    default:
      return {.error = wire_errc::wire_errc_empty_payload};
  }
  if (f.error) {
    return {.error = *f.error};
  }
  return {.message = std::move(out), .error = wire_errc::wire_errc_malformed};
}

} // namespace proofmesh::transport

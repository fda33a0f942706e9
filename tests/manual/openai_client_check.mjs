// A manual check, not part of `make test` (the build takes nothing from npm): the official
// `openai` Node.js client, through its documented options, against our gateway: chat and text
// completions with logprobs, buffered and streamed. Run it against a mesh (`proofmesh up`):
//   npm install openai   (in a scratch folder; then copy this file there)
//   PROOFMESH_GATEWAY=http://127.0.0.1:PORT PROOFMESH_API_KEY=... node openai_client_check.mjs
// It exits non-zero when a check fails.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: `${process.env.PROOFMESH_GATEWAY}/v1`,
  apiKey: process.env.PROOFMESH_API_KEY,
});
const fail = (what) => { console.error(`FAIL: ${what}`); process.exitCode = 1; };
const messages = [{ role: "user", content: "Prove that 2 + 2 = 4." }];
const ask = { model: "proofmesh-generator", messages, max_tokens: 12, seed: 4, logprobs: true,
              top_logprobs: 3 };

const chat = await client.chat.completions.create(ask);
const content = chat.choices[0].logprobs?.content ?? [];
if (content.length === 0) fail("chat: no logprobs.content");
if (!content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3)) fail("chat: entries");
console.log(`chat, buffered: ${content.length} tokens; first ${JSON.stringify(content[0])}`);

const streamed = [];
for await (const chunk of await client.chat.completions.create({ ...ask, stream: true })) {
  streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
}
if (JSON.stringify(streamed) !== JSON.stringify(content)) fail("chat: streamed != buffered");
console.log(`chat, streamed: ${streamed.length} tokens, equal to the buffered ones`);

const text = { model: "proofmesh-generator", prompt: "Let n be", max_tokens: 8, seed: 4,
               logprobs: 2 };
const lp = (await client.completions.create(text)).choices[0].logprobs;
if (!lp || lp.tokens.length === 0 || lp.text_offset.length !== lp.tokens.length) {
  fail("completions: logprobs lists");
}
console.log(`completions, buffered: tokens ${JSON.stringify(lp?.tokens)}, ` +
            `offsets ${JSON.stringify(lp?.text_offset)}`);
let n = 0;
for await (const c of await client.completions.create({ ...text, stream: true })) {
  n += c.choices[0]?.logprobs?.tokens?.length ?? 0;
}
if (n !== lp?.tokens.length) fail("completions: streamed token count");
console.log(`completions, streamed: ${n} tokens`);

// Our own prompt templates (deploy/templates/proofmesh-default.json), compiled in so a worker
// runs without a templates file; users point --templates at the official ones.
#pragma once

namespace proofmesh::worker {

extern const char* const default_templates_json;

} // namespace proofmesh::worker

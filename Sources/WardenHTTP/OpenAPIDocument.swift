/// The OpenAPI 3.1 description of every route, served at `/openapi.json`. A test holds it against
/// the routes the router really has, in both directions, and against each route's scope
/// (`x-warden-scope`).
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Warden API",
    "version": "0.1.0",
    "description": "Trust & safety operations: event intake, user reports, the event log and the entity graph. Errors are RFC 9457 problem documents (application/problem+json). Authenticate with `Authorization: Bearer <token>`; each operation names the scope it needs in x-warden-scope (admin includes every scope)."
  },
  "servers": [{"url": "http://127.0.0.1:8080"}],
  "components": {
    "securitySchemes": {
      "bearer": {"type": "http", "scheme": "bearer", "description": "An API token made by `warden serve` on first start or `warden tokens create`."}
    },
    "schemas": {
      "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
          "type": {"type": "string", "description": "urn:warden:problem:<slug>"},
          "title": {"type": "string"},
          "status": {"type": "integer"},
          "detail": {"type": "string"},
          "field": {"type": "string", "description": "Field path at fault, for a single invalid event."},
          "line": {"type": "integer"},
          "column": {"type": "integer"},
          "results": {"type": "array", "items": {"$ref": "#/components/schemas/LineResult"}}
        }
      },
      "Event": {
        "type": "object",
        "required": ["id", "type", "occurred_at"],
        "additionalProperties": false,
        "properties": {
          "id": {"type": "string", "maxLength": 200, "pattern": "^[A-Za-z0-9_.:/@+=-]+$", "description": "Client id; the idempotency key."},
          "type": {"type": "string", "maxLength": 100, "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$", "examples": ["message.sent"]},
          "occurred_at": {"type": "string", "format": "date-time"},
          "actor": {"type": ["object", "null"], "required": ["type", "id"], "additionalProperties": false,
                    "properties": {"type": {"type": "string"}, "id": {"type": "string", "maxLength": 256}}},
          "entities": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 256},
                       "description": "Entity type to id, e.g. {\"ip\": \"203.0.113.7\", \"device\": \"d9\"}. Types must be registered."},
          "data": {"type": "object", "description": "The product's payload, kept as sent."}
        }
      },
      "LineResult": {
        "type": "object",
        "required": ["line", "status"],
        "properties": {
          "line": {"type": "integer"},
          "id": {"type": "string"},
          "status": {"type": "string", "enum": ["accepted", "duplicate", "conflict", "rejected"]},
          "seq": {"type": "integer"},
          "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
              "code": {"type": "string", "enum": ["syntax", "invalid", "too_large", "conflict"]},
              "field": {"type": "string"},
              "line": {"type": "integer"},
              "column": {"type": "integer"},
              "message": {"type": "string"}
            }
          }
        }
      },
      "IntakeResult": {
        "type": "object",
        "required": ["accepted", "duplicates", "conflicts", "rejected", "results"],
        "properties": {
          "accepted": {"type": "integer"},
          "duplicates": {"type": "integer"},
          "conflicts": {"type": "integer"},
          "rejected": {"type": "integer"},
          "results": {"type": "array", "items": {"$ref": "#/components/schemas/LineResult"}}
        }
      },
      "StoredEvent": {
        "type": "object",
        "required": ["seq", "received_at", "event"],
        "properties": {
          "seq": {"type": "integer", "description": "Position in the log."},
          "received_at": {"type": "string", "format": "date-time"},
          "event": {"$ref": "#/components/schemas/Event"}
        }
      },
      "Hit": {
        "type": "object",
        "properties": {
          "rule": {"type": "string"}, "version": {"type": "string"}, "mode": {"type": "string", "enum": ["active", "shadow"]},
          "category": {"type": "string"}, "severity": {"type": "string"}, "explanation": {"type": "string"},
          "effects": {"type": "array", "items": {"type": "object"}}
        }
      },
      "Report": {
        "type": "object",
        "required": ["reporter", "reason"],
        "properties": {
          "id": {"type": "string", "description": "Optional client id for idempotent retries."},
          "reporter": {"type": "object", "required": ["type", "id"], "properties": {"type": {"type": "string"}, "id": {"type": "string"}}},
          "subject": {"type": "object", "required": ["type", "id"], "properties": {"type": {"type": "string"}, "id": {"type": "string"}}},
          "content_id": {"type": "string", "description": "Shorthand for subject {type: content, id}."},
          "reason": {"type": "string", "description": "A category id of the policy taxonomy (GET /v1/taxonomy)."},
          "text": {"type": "string"},
          "occurred_at": {"type": "string", "format": "date-time"}
        }
      }
    },
    "responses": {
      "Problem": {"description": "A problem document.", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}},
      "Intake": {"description": "Every line is in the log (accepted or duplicate).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntakeResult"}}}},
      "IntakePartial": {"description": "Some lines were stored and some were not; see each line.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IntakeResult"}}}}
    }
  },
  "paths": {
    "/healthz": {
      "get": {"operationId": "health", "summary": "The process is up.", "x-warden-scope": null,
              "responses": {"200": {"description": "Up."}}}
    },
    "/readyz": {
      "get": {"operationId": "ready", "summary": "The store answers; safe to send traffic.", "x-warden-scope": null,
              "responses": {"200": {"description": "Ready."}, "503": {"$ref": "#/components/responses/Problem"}}}
    },
    "/metrics": {
      "get": {"operationId": "metrics", "summary": "Prometheus metrics in the text exposition format.", "x-warden-scope": null,
              "responses": {"200": {"description": "Metrics.", "content": {"text/plain": {}}}}}
    },
    "/openapi.json": {
      "get": {"operationId": "openapi", "summary": "This document.", "x-warden-scope": null,
              "responses": {"200": {"description": "OpenAPI 3.1 document."}}}
    },
    "/v1/taxonomy": {
      "get": {"operationId": "taxonomy", "summary": "The active policy pack's taxonomy (valid report reasons).", "x-warden-scope": "read",
              "security": [{"bearer": []}],
              "responses": {"200": {"description": "Pack name, version and taxonomy."}, "401": {"$ref": "#/components/responses/Problem"}, "403": {"$ref": "#/components/responses/Problem"}}}
    },
    "/v1/events": {
      "post": {
        "operationId": "submitEvents",
        "summary": "Submit one event (application/json) or a batch (application/x-ndjson, one event per line).",
        "description": "Valid lines are committed durably before the answer; invalid lines change nothing. A retried event with the same id and content is a duplicate (accepted idempotently); the same id with different content is a conflict.",
        "x-warden-scope": "events:write",
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {
          "application/json": {"schema": {"$ref": "#/components/schemas/Event"}},
          "application/x-ndjson": {"schema": {"type": "string", "description": "One Event per line."}}
        }},
        "responses": {
          "200": {"$ref": "#/components/responses/Intake"},
          "207": {"$ref": "#/components/responses/IntakePartial"},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "415": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"}
        }
      },
      "get": {
        "operationId": "listEvents",
        "summary": "Read the log in order, after a sequence number (cursor pagination).",
        "x-warden-scope": "read",
        "security": [{"bearer": []}],
        "parameters": [
          {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
          {"name": "type", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "A page of events; pass next_after as after for the next page (null at the end).",
                  "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/StoredEvent"}},
                    "next_after": {"type": ["integer", "null"]}}}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/events/{id}": {
      "get": {
        "operationId": "getEvent",
        "summary": "One event by its client id.",
        "x-warden-scope": "read",
        "security": [{"bearer": []}],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {"description": "The event.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredEvent"}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/reports": {
      "post": {
        "operationId": "submitReport",
        "summary": "Submit a user report; stored as an event of the reserved type report.",
        "x-warden-scope": "reports:write",
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}}},
        "responses": {
          "200": {"$ref": "#/components/responses/Intake"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "409": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "415": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/evaluate": {
      "post": {
        "operationId": "evaluate",
        "summary": "Evaluate one event against the rules and current state; answer the verdict and the rules that fired, with why.",
        "description": "A dry run by default: state is not changed. With ingest=true the event is also stored, and detection then acts on it.",
        "x-warden-scope": "events:write",
        "security": [{"bearer": []}],
        "parameters": [{"name": "ingest", "in": "query", "schema": {"type": "boolean", "default": false}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Event"}}}},
        "responses": {
          "200": {"description": "The verdict and hits.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "event_id": {"type": "string"},
            "verdict": {"type": "string", "enum": ["allow", "challenge", "block"]},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "ingested": {"type": "object", "properties": {"status": {"type": "string"}, "seq": {"type": "integer"}}}}}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "415": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/moderations": {
      "post": {
        "operationId": "createModeration",
        "summary": "OpenAI-compatible moderation: run the pack's moderation classifiers on text.",
        "description": "The answer has the moderation endpoint's shape: results[].flagged, categories and category_scores, with the 13 standard categories always present and the pack's own categories (such as spam) added. A classifier that is unavailable or fails makes the request fail (503 or 502); content is never reported unflagged because it could not be judged.",
        "x-warden-scope": "events:write",
        "security": [{"bearer": []}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["input"], "properties": {
          "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 32}]},
          "model": {"type": "string"}}}}}},
        "responses": {
          "200": {"description": "One result per input.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "id": {"type": "string"}, "model": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object", "properties": {
              "flagged": {"type": "boolean"},
              "categories": {"type": "object", "additionalProperties": {"type": "boolean"}},
              "category_scores": {"type": "object", "additionalProperties": {"type": "number"}}}}}}}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "413": {"$ref": "#/components/responses/Problem"},
          "415": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"},
          "502": {"$ref": "#/components/responses/Problem"},
          "503": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/signals": {
      "get": {
        "operationId": "listSignals",
        "summary": "Signals raised by active rules, newest first.",
        "x-warden-scope": "read",
        "security": [{"bearer": []}],
        "parameters": [
          {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "Signals with a smaller id (pass next_before)."},
          {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
          {"name": "subject", "in": "query", "schema": {"type": "string"}, "description": "type:id"},
          {"name": "rule", "in": "query", "schema": {"type": "string"}}
        ],
        "responses": {
          "200": {"description": "A page of signals.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "signals": {"type": "array", "items": {"type": "object"}}, "next_before": {"type": ["integer", "null"]}}}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/rules": {
      "get": {
        "operationId": "listRules",
        "summary": "The rules in force, with mode, version and hits in the last 24 hours by hour.",
        "x-warden-scope": "read",
        "security": [{"bearer": []}],
        "responses": {
          "200": {"description": "The rules.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "rules": {"type": "array", "items": {"type": "object"}}}}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/policy-pack/reload": {
      "post": {
        "operationId": "reloadPolicyPack",
        "summary": "Load the policy pack directory again; it replaces the running one only if it checks and its rule tests pass.",
        "x-warden-scope": "admin",
        "security": [{"bearer": []}],
        "responses": {
          "200": {"description": "Activated, or unchanged.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "outcome": {"type": "string", "enum": ["activated", "unchanged"]}, "version": {"type": "string"}, "rules": {"type": "integer"}}}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "422": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/rules/history": {
      "get": {
        "operationId": "ruleHistory",
        "summary": "Every rule version ever active (with its source) and the latest pack changes, with who made them.",
        "x-warden-scope": "read",
        "security": [{"bearer": []}],
        "responses": {
          "200": {"description": "Versions and changes.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "versions": {"type": "array", "items": {"type": "object"}}, "changes": {"type": "array", "items": {"type": "object"}}}}}}},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"}
        }
      }
    },
    "/v1/entities/{type}/{id}": {
      "get": {
        "operationId": "getEntity",
        "summary": "An entity: first seen, event count, recent events and linked entities.",
        "x-warden-scope": "read",
        "security": [{"bearer": []}],
        "parameters": [
          {"name": "type", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
          {"name": "events", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 500, "default": 20}},
          {"name": "links", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 50}}
        ],
        "responses": {
          "200": {"description": "The entity.", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "entity": {"type": "string"}, "type": {"type": "string"}, "id": {"type": "string"},
            "first_seen_at": {"type": "string", "format": "date-time"}, "event_count": {"type": "integer"},
            "indexed_through_seq": {"type": "integer", "description": "The log position the entity graph reflects."},
            "labels": {"type": "array", "items": {"type": "object", "properties": {
              "name": {"type": "string"}, "source": {"type": "string"}, "created_at": {"type": "string"}, "expires_at": {"type": "string"}}}},
            "recent_events": {"type": "array", "items": {"$ref": "#/components/schemas/StoredEvent"}},
            "links": {"type": "array", "items": {"type": "object", "properties": {
              "entity": {"type": "string"}, "type": {"type": "string"}, "id": {"type": "string"}, "first_seq": {"type": "integer"}}}}}}}}},
          "400": {"$ref": "#/components/responses/Problem"},
          "401": {"$ref": "#/components/responses/Problem"},
          "403": {"$ref": "#/components/responses/Problem"},
          "404": {"$ref": "#/components/responses/Problem"}
        }
      }
    }
  }
}
"""#
}

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
  "servers": [
    {
      "url": "http://127.0.0.1:8080"
    }
  ],
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token made by `warden serve` on first start or `warden tokens create`."
      },
      "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "warden_session",
        "description": "A person's session from POST /v1/sessions; changes also need X-CSRF-Token."
      }
    },
    "schemas": {
      "Problem": {
        "type": "object",
        "required": [
          "type",
          "title",
          "status",
          "detail"
        ],
        "properties": {
          "type": {
            "type": "string",
            "description": "urn:warden:problem:<slug>"
          },
          "title": {
            "type": "string"
          },
          "status": {
            "type": "integer"
          },
          "detail": {
            "type": "string"
          },
          "field": {
            "type": "string",
            "description": "Field path at fault, for a single invalid event."
          },
          "line": {
            "type": "integer"
          },
          "column": {
            "type": "integer"
          },
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/LineResult"
            }
          }
        }
      },
      "Event": {
        "type": "object",
        "required": [
          "id",
          "type",
          "occurred_at"
        ],
        "additionalProperties": false,
        "properties": {
          "id": {
            "type": "string",
            "maxLength": 200,
            "pattern": "^[A-Za-z0-9_.:/@+=-]+$",
            "description": "Client id; the idempotency key."
          },
          "type": {
            "type": "string",
            "maxLength": 100,
            "pattern": "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$",
            "examples": [
              "message.sent"
            ]
          },
          "occurred_at": {
            "type": "string",
            "format": "date-time"
          },
          "actor": {
            "type": [
              "object",
              "null"
            ],
            "required": [
              "type",
              "id"
            ],
            "additionalProperties": false,
            "properties": {
              "type": {
                "type": "string"
              },
              "id": {
                "type": "string",
                "maxLength": 256
              }
            }
          },
          "entities": {
            "type": "object",
            "additionalProperties": {
              "type": "string",
              "maxLength": 256
            },
            "description": "Entity type to id, e.g. {\"ip\": \"203.0.113.7\", \"device\": \"d9\"}. Types must be registered."
          },
          "data": {
            "type": "object",
            "description": "The product's payload, kept as sent."
          }
        }
      },
      "LineResult": {
        "type": "object",
        "required": [
          "line",
          "status"
        ],
        "properties": {
          "line": {
            "type": "integer"
          },
          "id": {
            "type": "string"
          },
          "status": {
            "type": "string",
            "enum": [
              "accepted",
              "duplicate",
              "conflict",
              "rejected"
            ]
          },
          "seq": {
            "type": "integer"
          },
          "error": {
            "type": "object",
            "required": [
              "code",
              "message"
            ],
            "properties": {
              "code": {
                "type": "string",
                "enum": [
                  "syntax",
                  "invalid",
                  "too_large",
                  "conflict"
                ]
              },
              "field": {
                "type": "string"
              },
              "line": {
                "type": "integer"
              },
              "column": {
                "type": "integer"
              },
              "message": {
                "type": "string"
              }
            }
          }
        }
      },
      "IntakeResult": {
        "type": "object",
        "required": [
          "accepted",
          "duplicates",
          "conflicts",
          "rejected",
          "results"
        ],
        "properties": {
          "accepted": {
            "type": "integer"
          },
          "duplicates": {
            "type": "integer"
          },
          "conflicts": {
            "type": "integer"
          },
          "rejected": {
            "type": "integer"
          },
          "results": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/LineResult"
            }
          }
        }
      },
      "StoredEvent": {
        "type": "object",
        "required": [
          "seq",
          "received_at",
          "event"
        ],
        "properties": {
          "seq": {
            "type": "integer",
            "description": "Position in the log."
          },
          "received_at": {
            "type": "string",
            "format": "date-time"
          },
          "event": {
            "$ref": "#/components/schemas/Event"
          }
        }
      },
      "Hit": {
        "type": "object",
        "properties": {
          "rule": {
            "type": "string"
          },
          "version": {
            "type": "string"
          },
          "mode": {
            "type": "string",
            "enum": [
              "active",
              "shadow"
            ]
          },
          "category": {
            "type": "string"
          },
          "severity": {
            "type": "string"
          },
          "explanation": {
            "type": "string"
          },
          "effects": {
            "type": "array",
            "items": {
              "type": "object"
            }
          }
        }
      },
      "Report": {
        "type": "object",
        "required": [
          "reporter",
          "reason"
        ],
        "properties": {
          "id": {
            "type": "string",
            "description": "Optional client id for idempotent retries."
          },
          "reporter": {
            "type": "object",
            "required": [
              "type",
              "id"
            ],
            "properties": {
              "type": {
                "type": "string"
              },
              "id": {
                "type": "string"
              }
            }
          },
          "subject": {
            "type": "object",
            "required": [
              "type",
              "id"
            ],
            "properties": {
              "type": {
                "type": "string"
              },
              "id": {
                "type": "string"
              }
            }
          },
          "content_id": {
            "type": "string",
            "description": "Shorthand for subject {type: content, id}."
          },
          "reason": {
            "type": "string",
            "description": "A category id of the policy taxonomy (GET /v1/taxonomy)."
          },
          "text": {
            "type": "string"
          },
          "occurred_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "Case": {
        "type": "object",
        "description": "A review case.",
        "properties": {
          "id": {
            "type": "integer"
          },
          "kind": {
            "type": "string",
            "enum": [
              "review",
              "appeal"
            ]
          },
          "subject": {
            "type": "string"
          },
          "source": {
            "type": "string",
            "enum": [
              "signal",
              "report",
              "appeal"
            ]
          },
          "queue": {
            "type": "string"
          },
          "state": {
            "type": "string",
            "enum": [
              "open",
              "in_review",
              "on_hold",
              "escalated",
              "resolved",
              "appealed",
              "closed"
            ]
          },
          "category": {
            "type": "string"
          },
          "severity": {
            "type": "string"
          },
          "priority": {
            "type": "object",
            "properties": {
              "score": {
                "type": "integer"
              },
              "band": {
                "type": "string"
              },
              "urgency": {
                "type": "integer"
              }
            }
          },
          "signals": {
            "type": "integer"
          },
          "reports": {
            "type": "integer"
          },
          "reporter_weight": {
            "type": "number"
          },
          "assignee": {
            "type": "string"
          },
          "lease_expires_at": {
            "type": "string",
            "format": "date-time"
          },
          "sla": {
            "type": "object",
            "properties": {
              "elapsed": {
                "type": "string"
              },
              "running": {
                "type": "boolean"
              },
              "resolution_target": {
                "type": "string"
              },
              "first_action_target": {
                "type": "string"
              },
              "due_at": {
                "type": "string",
                "format": "date-time"
              },
              "status": {
                "type": "string",
                "enum": [
                  "none",
                  "ok",
                  "warning",
                  "breached",
                  "paused",
                  "stopped"
                ]
              }
            }
          },
          "allowed": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "timeline": {
            "type": "array",
            "items": {
              "type": "object"
            }
          },
          "decisions": {
            "type": "array",
            "items": {
              "type": "object"
            }
          }
        }
      },
      "Decision": {
        "type": "object",
        "properties": {
          "id": {
            "type": "integer"
          },
          "case_id": {
            "type": "integer"
          },
          "decided_by": {
            "type": "string"
          },
          "category": {
            "type": "string"
          },
          "violation": {
            "type": "boolean"
          },
          "actions": {
            "type": "array",
            "items": {
              "type": "object"
            }
          },
          "statement_of_reasons": {
            "type": "boolean"
          },
          "outcome": {
            "type": "string"
          }
        }
      },
      "Consult": {
        "type": "object",
        "properties": {
          "id": {
            "type": "integer"
          },
          "case_id": {
            "type": "integer"
          },
          "asked_by": {
            "type": "string"
          },
          "reviewer": {
            "type": "string"
          },
          "question": {
            "type": "string"
          },
          "asked_at": {
            "type": "string",
            "format": "date-time"
          },
          "answer": {
            "type": "string"
          },
          "answered_at": {
            "type": "string",
            "format": "date-time"
          },
          "case": {
            "type": "object",
            "properties": {
              "queue": {
                "type": "string"
              },
              "state": {
                "type": "string"
              },
              "subject": {
                "type": "string"
              },
              "category": {
                "type": "string"
              },
              "assignee": {
                "type": "string"
              }
            }
          }
        }
      }
    },
    "responses": {
      "Problem": {
        "description": "A problem document.",
        "content": {
          "application/problem+json": {
            "schema": {
              "$ref": "#/components/schemas/Problem"
            }
          }
        }
      },
      "Intake": {
        "description": "Every line is in the log (accepted or duplicate).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/IntakeResult"
            }
          }
        }
      },
      "IntakePartial": {
        "description": "Some lines were stored and some were not; see each line.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/IntakeResult"
            }
          }
        }
      }
    }
  },
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "health",
        "summary": "The process is up.",
        "x-warden-scope": null,
        "responses": {
          "200": {
            "description": "Up."
          }
        }
      }
    },
    "/readyz": {
      "get": {
        "operationId": "ready",
        "summary": "The store answers; safe to send traffic.",
        "x-warden-scope": null,
        "responses": {
          "200": {
            "description": "Ready."
          },
          "503": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics in the text exposition format.",
        "x-warden-scope": null,
        "responses": {
          "200": {
            "description": "Metrics.",
            "content": {
              "text/plain": {}
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document.",
        "x-warden-scope": null,
        "responses": {
          "200": {
            "description": "OpenAPI 3.1 document."
          }
        }
      }
    },
    "/v1/taxonomy": {
      "get": {
        "operationId": "taxonomy",
        "summary": "The active policy pack's taxonomy (valid report reasons).",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "Pack name, version and taxonomy."
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/events": {
      "post": {
        "operationId": "submitEvents",
        "summary": "Submit one event (application/json) or a batch (application/x-ndjson, one event per line).",
        "description": "Valid lines are committed durably before the answer; invalid lines change nothing. A retried event with the same id and content is a duplicate (accepted idempotently); the same id with different content is a conflict.",
        "x-warden-scope": "events:write",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Event"
              }
            },
            "application/x-ndjson": {
              "schema": {
                "type": "string",
                "description": "One Event per line."
              }
            }
          }
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Intake"
          },
          "207": {
            "$ref": "#/components/responses/IntakePartial"
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "415": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      },
      "get": {
        "operationId": "listEvents",
        "summary": "Read the log in order, after a sequence number (cursor pagination).",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "after",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "default": 0
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          },
          {
            "name": "type",
            "in": "query",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of events; pass next_after as after for the next page (null at the end).",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "events": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/StoredEvent"
                      }
                    },
                    "next_after": {
                      "type": [
                        "integer",
                        "null"
                      ]
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/events/{id}": {
      "get": {
        "operationId": "getEvent",
        "summary": "One event by its client id.",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The event.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoredEvent"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/reports": {
      "post": {
        "operationId": "submitReport",
        "summary": "Submit a user report; stored as an event of the reserved type report.",
        "x-warden-scope": "reports:write",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Report"
              }
            }
          }
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Intake"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "415": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/evaluate": {
      "post": {
        "operationId": "evaluate",
        "summary": "Evaluate one event against the rules and current state; answer the verdict, the rules that fired, with why, and the rules waiting for served classifiers.",
        "description": "A dry run by default: state is not changed. With ingest=true the event is also stored, and detection then acts on it.",
        "x-warden-scope": "events:write",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "ingest",
            "in": "query",
            "schema": {
              "type": "boolean",
              "default": false
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/Event"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The verdict and hits.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "event_id": {
                      "type": "string"
                    },
                    "verdict": {
                      "type": "string",
                      "enum": [
                        "allow",
                        "challenge",
                        "block"
                      ]
                    },
                    "hits": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Hit"
                      }
                    },
                    "pending": {
                      "type": "array",
                      "description": "Rules whose other conditions hold and that wait for classifiers served over an API; they do not change the verdict. Once the event is ingested, the classification stage settles them (GET /v1/classifications).",
                      "items": {
                        "allOf": [
                          {
                            "$ref": "#/components/schemas/Hit"
                          },
                          {
                            "type": "object",
                            "properties": {
                              "waiting_for": {
                                "type": "string",
                                "description": "What is left to decide, such as classify(\"spam-policy\") >= 0.75."
                              }
                            }
                          }
                        ]
                      }
                    },
                    "ingested": {
                      "type": "object",
                      "properties": {
                        "status": {
                          "type": "string"
                        },
                        "seq": {
                          "type": "integer"
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "415": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/moderations": {
      "post": {
        "operationId": "createModeration",
        "summary": "OpenAI-compatible moderation: run the pack's moderation classifiers on text.",
        "description": "The answer has the moderation endpoint's shape: results[].flagged, categories and category_scores, with the 13 standard categories always present and the pack's own categories (such as spam) added. A classifier that is unavailable or fails makes the request fail (503 or 502); content is never reported unflagged because it could not be judged.",
        "x-warden-scope": "events:write",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "input"
                ],
                "properties": {
                  "input": {
                    "oneOf": [
                      {
                        "type": "string"
                      },
                      {
                        "type": "array",
                        "items": {
                          "type": "string"
                        },
                        "minItems": 1,
                        "maxItems": 32
                      }
                    ]
                  },
                  "model": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "One result per input.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "id": {
                      "type": "string"
                    },
                    "model": {
                      "type": "string"
                    },
                    "results": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "flagged": {
                            "type": "boolean"
                          },
                          "categories": {
                            "type": "object",
                            "additionalProperties": {
                              "type": "boolean"
                            }
                          },
                          "category_scores": {
                            "type": "object",
                            "additionalProperties": {
                              "type": "number"
                            }
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "413": {
            "$ref": "#/components/responses/Problem"
          },
          "415": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "502": {
            "$ref": "#/components/responses/Problem"
          },
          "503": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/signals": {
      "get": {
        "operationId": "listSignals",
        "summary": "Signals raised by active rules, newest first.",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "before",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1
            },
            "description": "Signals with a smaller id (pass next_before)."
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          },
          {
            "name": "subject",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "type:id"
          },
          {
            "name": "rule",
            "in": "query",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of signals.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "signals": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    },
                    "next_before": {
                      "type": [
                        "integer",
                        "null"
                      ]
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/classifications": {
      "get": {
        "operationId": "listClassifications",
        "summary": "Rule hits that waited for classifiers served over an API (classification jobs), newest first: pending, fired, not fired or failed, with the classifiers' answers or the last error, and a count per state.",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "state",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "pending",
                "fired",
                "not_fired",
                "failed"
              ]
            }
          },
          {
            "name": "before",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1
            },
            "description": "Jobs with a smaller id (pass next_before)."
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of classification jobs.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "counts": {
                      "type": "object",
                      "additionalProperties": {
                        "type": "integer"
                      }
                    },
                    "classifications": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "id": {
                            "type": "integer"
                          },
                          "state": {
                            "type": "string"
                          },
                          "event_seq": {
                            "type": "integer"
                          },
                          "rule": {
                            "type": "string"
                          },
                          "rule_version": {
                            "type": "string"
                          },
                          "mode": {
                            "type": "string"
                          },
                          "category": {
                            "type": "string"
                          },
                          "subject": {
                            "type": "string"
                          },
                          "explanation": {
                            "type": "string"
                          },
                          "waiting_for": {
                            "type": "string"
                          },
                          "attempts": {
                            "type": "integer"
                          },
                          "last_error": {
                            "type": "string"
                          },
                          "answers": {
                            "type": "array",
                            "items": {
                              "type": "object"
                            }
                          },
                          "occurred_at": {
                            "type": "string",
                            "format": "date-time"
                          },
                          "created_at": {
                            "type": "string",
                            "format": "date-time"
                          },
                          "next_attempt_at": {
                            "type": "string",
                            "format": "date-time"
                          },
                          "settled_at": {
                            "type": "string",
                            "format": "date-time"
                          }
                        }
                      }
                    },
                    "next_before": {
                      "type": [
                        "integer",
                        "null"
                      ]
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/rules": {
      "get": {
        "operationId": "listRules",
        "summary": "The rules in force, with mode, version and hits in the last 24 hours by hour.",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "The rules.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "rules": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/policy-pack/reload": {
      "post": {
        "operationId": "reloadPolicyPack",
        "summary": "Load the policy pack directory again; it replaces the running one only if it checks and its rule tests pass.",
        "x-warden-scope": "admin",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "Activated, or unchanged.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "outcome": {
                      "type": "string",
                      "enum": [
                        "activated",
                        "unchanged"
                      ]
                    },
                    "version": {
                      "type": "string"
                    },
                    "rules": {
                      "type": "integer"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/rules/history": {
      "get": {
        "operationId": "ruleHistory",
        "summary": "Every rule version ever active (with its source) and the latest pack changes, with who made them.",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "Versions and changes.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "versions": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    },
                    "changes": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/entities/{type}/{id}": {
      "get": {
        "operationId": "getEntity",
        "summary": "An entity: first seen, event count, recent events and linked entities.",
        "x-warden-scope": "read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "type",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "events",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 500,
              "default": 20
            }
          },
          {
            "name": "links",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "maximum": 1000,
              "default": 50
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The entity.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "entity": {
                      "type": "string"
                    },
                    "type": {
                      "type": "string"
                    },
                    "id": {
                      "type": "string"
                    },
                    "first_seen_at": {
                      "type": "string",
                      "format": "date-time"
                    },
                    "event_count": {
                      "type": "integer"
                    },
                    "indexed_through_seq": {
                      "type": "integer",
                      "description": "The log position the entity graph reflects."
                    },
                    "labels": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "name": {
                            "type": "string"
                          },
                          "source": {
                            "type": "string"
                          },
                          "created_at": {
                            "type": "string"
                          },
                          "expires_at": {
                            "type": "string"
                          }
                        }
                      }
                    },
                    "recent_events": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/StoredEvent"
                      }
                    },
                    "links": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "entity": {
                            "type": "string"
                          },
                          "type": {
                            "type": "string"
                          },
                          "id": {
                            "type": "string"
                          },
                          "first_seq": {
                            "type": "integer"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/queues": {
      "get": {
        "operationId": "listQueues",
        "summary": "Queues with open case counts by state, past-due counts, access, allowed actions, requirements, wellness and SLA targets.",
        "x-warden-scope": "cases:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "The queues.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "queues": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/queues/{queue}/next": {
      "post": {
        "operationId": "claimNext",
        "summary": "Claim the most urgent waiting case of a queue (band first, then nearest SLA deadline), under a lease that activity renews.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "queue",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "204": {
            "description": "Nothing is waiting that this reviewer may take."
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases": {
      "get": {
        "operationId": "listCases",
        "summary": "Cases, newest first.",
        "x-warden-scope": "cases:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "queue",
            "in": "query",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "state",
            "in": "query",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "assignee",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "A holder, or `me`."
          },
          {
            "name": "before",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500,
              "default": 50
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of cases.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "cases": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Case"
                      }
                    },
                    "next_before": {
                      "type": [
                        "integer",
                        "null"
                      ]
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}": {
      "get": {
        "operationId": "getCase",
        "summary": "A case with its timeline and decisions (the read is audited).",
        "x-warden-scope": "cases:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/claim": {
      "post": {
        "operationId": "claimCase",
        "summary": "Claim a named case.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/renew": {
      "post": {
        "operationId": "renewLease",
        "summary": "Renew the lease on a held case.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "note": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/release": {
      "post": {
        "operationId": "releaseCase",
        "summary": "Give a held case back to its queue.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "note": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/hold": {
      "post": {
        "operationId": "holdCase",
        "summary": "Put a held case on hold (the SLA clock pauses where the queue says so).",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "note": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/resume": {
      "post": {
        "operationId": "resumeCase",
        "summary": "Pick a case on hold up again.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "note": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/handoff": {
      "post": {
        "operationId": "handOffCase",
        "summary": "Hand a held case to a named reviewer.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "reviewer"
                ],
                "properties": {
                  "reviewer": {
                    "type": "string"
                  },
                  "note": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/consult": {
      "post": {
        "operationId": "consultOnCase",
        "summary": "Ask another reviewer for an opinion; the holder keeps the case.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "reviewer",
                  "question"
                ],
                "properties": {
                  "reviewer": {
                    "type": "string"
                  },
                  "question": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/consults": {
      "get": {
        "operationId": "listConsults",
        "summary": "The caller's consult inbox: questions other reviewers asked them about cases, newest first, with each case's queue, state and holder (vendor reviewers see only their queues' cases, personal data masked).",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "answered",
            "in": "query",
            "schema": {
              "type": "boolean"
            },
            "description": "false: the open questions; true: those answered."
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Consults asked of the caller.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "consults": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Consult"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/consults/{id}/answer": {
      "post": {
        "operationId": "answerConsult",
        "summary": "Answer a consult asked of the caller; the answer goes on the case's timeline (consult_answer) and the audit log. Only the reviewer asked can answer, once.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "answer"
                ],
                "properties": {
                  "answer": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The answered consult.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Consult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/comments": {
      "post": {
        "operationId": "commentOnCase",
        "summary": "Add a comment to the timeline.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "text"
                ],
                "properties": {
                  "text": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/escalate": {
      "post": {
        "operationId": "escalateCase",
        "summary": "Escalate to another queue or tier, with a reason.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "queue",
                  "reason"
                ],
                "properties": {
                  "queue": {
                    "type": "string"
                  },
                  "reason": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/cases/{id}/decision": {
      "post": {
        "operationId": "decideCase",
        "summary": "Decide a case you hold. Without actions, a violation takes the category's ladder step. For an appeal case give outcome (upheld | overturned); an overturn reverses the original actions.",
        "x-warden-scope": "cases:review",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "category": {
                    "type": "string"
                  },
                  "violation": {
                    "type": "boolean"
                  },
                  "actions": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "required": [
                        "action"
                      ],
                      "properties": {
                        "action": {
                          "type": "string"
                        },
                        "duration": {
                          "type": "string",
                          "examples": [
                            "24h"
                          ]
                        }
                      }
                    }
                  },
                  "policy": {
                    "type": "string"
                  },
                  "rationale": {
                    "type": "string"
                  },
                  "illegal": {
                    "type": "boolean"
                  },
                  "legal_ground": {
                    "type": "string"
                  },
                  "tree_path": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "macro": {
                    "type": "string"
                  },
                  "outcome": {
                    "type": "string",
                    "enum": [
                      "upheld",
                      "overturned"
                    ]
                  },
                  "tree": {
                    "type": "string",
                    "description": "Decide by a decision tree: its outcome supplies category, violation, actions, policy and macro; the path is recorded."
                  },
                  "answers": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    },
                    "description": "The answers' labels, in order."
                  }
                }
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The decision.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Decision"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/actions/{id}/reverse": {
      "post": {
        "operationId": "reverseAction",
        "summary": "Reverse an action: its compensating action is delivered and its strike lifted.",
        "x-warden-scope": "cases:lead",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "integer",
              "minimum": 1
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "reason"
                ],
                "properties": {
                  "reason": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The reversed action.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/appeals": {
      "post": {
        "operationId": "openAppeal",
        "summary": "Open an appeal of a resolved case's decision; someone other than the decider reviews it.",
        "x-warden-scope": "appeals:write",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "case_id",
                  "appellant"
                ],
                "properties": {
                  "case_id": {
                    "type": "integer"
                  },
                  "appellant": {
                    "type": "string",
                    "examples": [
                      "user:u1"
                    ]
                  },
                  "statement": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The case.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Case"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "409": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/reporters/{reporter}/mute": {
      "post": {
        "operationId": "muteReporter",
        "summary": "Mute or unmute a reporter (a muted reporter's reports weigh nothing in priority).",
        "x-warden-scope": "cases:lead",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "reporter",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            },
            "description": "type:id"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "muted"
                ],
                "properties": {
                  "muted": {
                    "type": "boolean"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Done.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/outbox": {
      "get": {
        "operationId": "listDeliveries",
        "summary": "Webhook deliveries, newest first.",
        "x-warden-scope": "cases:lead",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "state",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "pending",
                "delivered",
                "dead"
              ]
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Deliveries.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "deliveries": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/outbox/redrive": {
      "post": {
        "operationId": "redriveDeliveries",
        "summary": "Put dead-lettered deliveries (all, or the ids given) back in line.",
        "x-warden-scope": "cases:lead",
        "security": [
          {
            "bearer": []
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "ids": {
                    "type": "array",
                    "items": {
                      "type": "integer"
                    }
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "How many.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "redriven": {
                      "type": "integer"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/exports/statements-of-reasons": {
      "get": {
        "operationId": "exportStatementsOfReasons",
        "summary": "Every statement of reasons made in [from, to) as NDJSON with the EU DSA Transparency Database fields; streamed, no cap.",
        "x-warden-scope": "exports:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "from",
            "in": "query",
            "schema": {
              "type": "string"
            },
            "description": "A date (2026-11-01) or RFC 3339 time."
          },
          {
            "name": "to",
            "in": "query",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "One statement per line.",
            "content": {
              "application/x-ndjson": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/audit": {
      "get": {
        "operationId": "listAudit",
        "summary": "The hash-chained audit log, oldest first.",
        "x-warden-scope": "audit:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "after",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000,
              "default": 100
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Entries.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "entries": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "seq": {
                            "type": "integer"
                          },
                          "at": {
                            "type": "string"
                          },
                          "actor": {
                            "type": "string"
                          },
                          "action": {
                            "type": "string"
                          },
                          "target": {
                            "type": "string"
                          },
                          "detail": {
                            "type": "object"
                          },
                          "previous_hash": {
                            "type": "string"
                          },
                          "hash": {
                            "type": "string"
                          }
                        }
                      }
                    },
                    "next_after": {
                      "type": [
                        "integer",
                        "null"
                      ]
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Problem"
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/sessions": {
      "post": {
        "operationId": "signIn",
        "summary": "Sign in with a name and password: sets the HttpOnly warden_session cookie and answers the CSRF token that cookie-authenticated changes must send in X-CSRF-Token.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "name",
                  "password"
                ],
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "password": {
                    "type": "string"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Signed in.",
            "headers": {
              "Set-Cookie": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "user": {
                      "type": "string"
                    },
                    "role": {
                      "type": "string"
                    },
                    "scopes": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    },
                    "queues": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    },
                    "csrf_token": {
                      "type": "string"
                    },
                    "expires_at": {
                      "type": "string",
                      "format": "date-time"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "415": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      },
      "delete": {
        "operationId": "signOut",
        "summary": "End the session of the warden_session cookie.",
        "responses": {
          "204": {
            "description": "Signed out."
          }
        }
      }
    },
    "/v1/me": {
      "get": {
        "operationId": "whoAmI",
        "summary": "Who is calling (token or person), their role and scopes.",
        "responses": {
          "200": {
            "description": "The caller.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "actor": {
                      "type": "string"
                    },
                    "role": {
                      "type": "string"
                    },
                    "scopes": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    },
                    "queues": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/trees": {
      "get": {
        "operationId": "listTrees",
        "summary": "The pack's decision trees with their questions and answers.",
        "x-warden-scope": "cases:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "responses": {
          "200": {
            "description": "Trees.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "trees": {
                      "type": "array",
                      "items": {
                        "type": "object"
                      }
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    },
    "/v1/trees/{name}/walk": {
      "post": {
        "operationId": "walkTree",
        "summary": "Walk a decision tree with the answers so far: the next question, or the outcome to submit with POST /v1/cases/{id}/decision {tree, answers}.",
        "x-warden-scope": "cases:read",
        "security": [
          {
            "bearer": []
          }
        ],
        "parameters": [
          {
            "name": "name",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string"
            }
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "answers": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Where the walk stands.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "tree": {
                      "type": "string"
                    },
                    "path": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    },
                    "question": {
                      "type": "object"
                    },
                    "outcome": {
                      "type": "object"
                    }
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Problem"
          },
          "403": {
            "$ref": "#/components/responses/Problem"
          },
          "404": {
            "$ref": "#/components/responses/Problem"
          },
          "422": {
            "$ref": "#/components/responses/Problem"
          }
        }
      }
    }
  }
}
"""#
}

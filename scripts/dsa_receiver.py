#!/usr/bin/env python3
"""A local stand-in for the EU DSA Transparency Database's submission API, for tests and trial runs.

It applies the database's published rules, transcribed independently of Warden's own check from the
database's source (github.com/digital-services-act/transparency-database:
app/Http/Requests/StatementStoreRequest.php, app/Services/GroupedSubmissionsService.php,
app/Models/Statement.php, app/Services/EuropeanCountriesService.php; the July 2025 schema):

- POST /api/v1/statements with {"statements": [...]} of 1-100 statements, Authorization: Bearer <token>
  (401 otherwise); 422 {"errors": {"statement_N": {field: [messages]}}} when any statement breaks a
  rule, and then none is created; 422 {"errors": {"puid": [...], "existing_puids": [...]}} when a
  puid repeats within the call or is already held for the platform; 201 {"statements": [...]} with
  a uuid per statement otherwise.
- POST /api/v1/statement with one statement (same rules; a held puid answers 422 with "existing").
- GET /api/v1/statement/existing-puid/<puid>: 302 when held, 404 otherwise.

Run it by hand:  python3 scripts/dsa_receiver.py --port 8787 --token secret
then:            WARDEN_DSA_TOKEN=secret warden submit statements-of-reasons --endpoint http://127.0.0.1:8787
"""
import argparse
import datetime
import http.server
import json
import re
import threading
import uuid

CATEGORIES = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE", "STATEMENT_CATEGORY_CONSUMER_INFORMATION", "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "STATEMENT_CATEGORY_SELF_HARM", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
}
KEYWORDS = set("""
ADULT_SEXUAL_MATERIAL AGE_SPECIFIC_RESTRICTIONS AGE_SPECIFIC_RESTRICTIONS_MINORS ANIMAL_HARM BIOMETRIC_DATA_BREACH
BULLYING_AGAINST_GIRLS CHILD_SEXUAL_ABUSE_MATERIAL CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE CONTENT_PROMOTING_EATING_DISORDERS
COORDINATED_HARM COPYRIGHT_INFRINGEMENT CYBER_BULLYING_INTIMIDATION CYBER_HARASSMENT CYBER_HARASSMENT_AGAINST_WOMEN
CYBER_INCITEMENT CYBER_STALKING CYBER_STALKING_AGAINST_WOMEN DATA_FALSIFICATION DEFAMATION DESIGN_INFRINGEMENT DISCRIMINATION
FEMALE_GENDERED_DISINFORMATION GEOGRAPHIC_INDICATIONS_INFRINGEMENT GEOGRAPHICAL_REQUIREMENTS GOODS_SERVICES_NOT_PERMITTED
GROOMING_SEXUAL_ENTICEMENT_MINORS HATE_SPEECH HIDDEN_ADVERTISEMENT HUMAN_EXPLOITATION HUMAN_TRAFFICKING ILLEGAL_ORGANIZATIONS
IMPERSONATION_ACCOUNT_HIJACKING INAUTHENTIC_ACCOUNTS INAUTHENTIC_LISTINGS INAUTHENTIC_USER_REVIEWS INCITEMENT_AGAINST_WOMEN
INCITEMENT_VIOLENCE_HATRED INSUFFICIENT_INFORMATION_ON_TRADERS LANGUAGE_REQUIREMENTS MISINFORMATION_DISINFORMATION
MISLEADING_INFO_CONSUMER_RIGHTS MISLEADING_INFO_GOODS_SERVICES MISSING_PROCESSING_GROUND NON_CONSENSUAL_IMAGE_SHARING
NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN NON_CONSENSUAL_MATERIAL_DEEPFAKE NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN
NONCOMPLIANCE_PRICING NUDITY PATENT_INFRINGEMENT PHISHING PROHIBITED_PRODUCTS PYRAMID_SCHEMES RIGHT_TO_BE_FORGOTTEN
RISK_ENVIRONMENTAL_DAMAGE RISK_PUBLIC_HEALTH SELF_MUTILATION STALKING SUICIDE TERRORIST_CONTENT TRADE_SECRET_INFRINGEMENT
TRADEMARK_INFRINGEMENT TRAFFICKING_WOMEN_GIRLS UNLAWFUL_SALE_ANIMALS UNSAFE_CHALLENGES UNSAFE_PRODUCTS VIOLATION_EU_LAW
VIOLATION_NATIONAL_LAW OTHER""".split())
KEYWORDS = {"KEYWORD_" + k for k in KEYWORDS}
VISIBILITY = {"DECISION_VISIBILITY_" + v for v in ("CONTENT_REMOVED", "CONTENT_DISABLED", "CONTENT_DEMOTED", "CONTENT_AGE_RESTRICTED",
                                                    "CONTENT_INTERACTION_RESTRICTED", "CONTENT_LABELLED", "OTHER")}
MONETARY = {"DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER"}
PROVISION = {"DECISION_PROVISION_" + v for v in ("PARTIAL_SUSPENSION", "TOTAL_SUSPENSION", "PARTIAL_TERMINATION", "TOTAL_TERMINATION")}
ACCOUNT = {"DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"}
ACCOUNT_TYPES = {"ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"}
GROUNDS = {"DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT"}
CONTENT_TYPES = {"CONTENT_TYPE_" + v for v in ("APP", "AUDIO", "IMAGE", "PRODUCT", "SYNTHETIC_MEDIA", "TEXT", "VIDEO", "OTHER")}
SOURCES = {"SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"}
AUTOMATED_DECISIONS = {"AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"}
COUNTRIES = set("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS IT LI LT LU LV MT NL NO PL PT RO SE SI SK".split())
PUID = re.compile(r"^[a-zA-Z0-9\-_]+$")


def filled(value):
    """Laravel's `required`: present, not null, not blank text, not an empty array."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    if isinstance(value, (list, dict)):
        return len(value) > 0
    return True


def validate(s):
    """The store request's rules for one statement: {field: [messages]} (empty when accepted)."""
    errors = {}

    def fail(field, message):
        errors.setdefault(field, []).append(message)

    def in_set(field, allowed, nullable=True):
        value = s.get(field)
        if value is None and nullable:
            return
        if not isinstance(value, str) or value not in allowed:
            fail(field, f"The selected {field.replace('_', ' ')} is invalid.")

    def in_array(field, allowed, required=False):
        value = s.get(field)
        if not filled(value):
            if required:
                fail(field, f"The {field.replace('_', ' ')} field is required.")
            return
        if not isinstance(value, list):
            fail(field, f"The {field.replace('_', ' ')} field must be an array.")
        elif any(not isinstance(v, str) or v not in allowed for v in value):
            fail(field, f"The selected {field.replace('_', ' ')} is invalid.")

    def text(field, limit, required=False):
        value = s.get(field)
        if not filled(value):
            if required:
                fail(field, f"The {field.replace('_', ' ')} field is required.")
            return
        if not isinstance(value, str):
            fail(field, f"The {field.replace('_', ' ')} field must be a string.")
        elif len(value) > limit:
            fail(field, f"The {field.replace('_', ' ')} field must not be greater than {limit} characters.")

    def date(field, required, earliest=None):
        value = s.get(field)
        if not filled(value):
            if required:
                fail(field, f"The {field.replace('_', ' ')} field is required.")
            return
        try:
            parsed = datetime.datetime.strptime(value, "%Y-%m-%d").date()
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
        except (TypeError, ValueError):
            fail(field, f"The {field.replace('_', ' ')} does not match the format YYYY-MM-DD.")
            return
        if earliest and parsed < datetime.date.fromisoformat(earliest):
            fail(field, f"The {field.replace('_', ' ')} field must be a date after or equal to {earliest}.")
        if parsed > datetime.date(2038, 1, 1):
            fail(field, f"The {field.replace('_', ' ')} field must be a date before or equal to 2038-01-01.")

    restrictions = ["decision_visibility", "decision_monetary", "decision_provision", "decision_account"]
    if not any(filled(s.get(r)) for r in restrictions):
        fail("decision_visibility", "The decision visibility field is required when none of decision monetary / decision provision / decision account are present.")
    in_array("decision_visibility", VISIBILITY)
    if "DECISION_VISIBILITY_OTHER" in (s.get("decision_visibility") or []):
        text("decision_visibility_other", 500, required=True)
    in_set("decision_monetary", MONETARY)
    if s.get("decision_monetary") == "DECISION_MONETARY_OTHER":
        text("decision_monetary_other", 500, required=True)
    in_set("decision_provision", PROVISION)
    in_set("decision_account", ACCOUNT)
    in_set("account_type", ACCOUNT_TYPES)
    in_array("category_specification", KEYWORDS)
    text("category_specification_other", 500)
    if not filled(s.get("decision_ground")):
        fail("decision_ground", "The decision ground field is required.")
    else:
        in_set("decision_ground", GROUNDS, nullable=False)
    text("decision_ground_reference_url", 500)
    if s.get("decision_ground") == "DECISION_GROUND_ILLEGAL_CONTENT":
        text("illegal_content_legal_ground", 500, required=True)
        text("illegal_content_explanation", 2000, required=True)
    if s.get("decision_ground") == "DECISION_GROUND_INCOMPATIBLE_CONTENT":
        text("incompatible_content_ground", 500, required=True)
        text("incompatible_content_explanation", 2000, required=True)
        in_set("incompatible_content_illegal", {"Yes", "No"})
    in_array("content_type", CONTENT_TYPES, required=True)
    if "CONTENT_TYPE_OTHER" in (s.get("content_type") or []):
        text("content_type_other", 500, required=True)
    if not filled(s.get("category")):
        fail("category", "The category field is required.")
    else:
        in_set("category", CATEGORIES, nullable=False)
    in_array("category_addition", CATEGORIES)
    in_array("territorial_scope", COUNTRIES)
    date("content_date", True, "2000-01-01")
    date("application_date", True, "2020-01-01")
    for field in ("end_date_account_restriction", "end_date_monetary_restriction", "end_date_service_restriction",
                  "end_date_visibility_restriction"):
        date(field, False)
    text("decision_facts", 5000, required=True)
    if not filled(s.get("source_type")):
        fail("source_type", "The source type field is required.")
    else:
        in_set("source_type", SOURCES, nullable=False)
    if s.get("source_type") != "SOURCE_VOLUNTARY":
        text("source_identity", 500)
    if not filled(s.get("automated_detection")):
        fail("automated_detection", "The automated detection field is required.")
    else:
        in_set("automated_detection", {"Yes", "No"}, nullable=False)
    if not filled(s.get("automated_decision")):
        fail("automated_decision", "The automated decision field is required.")
    else:
        in_set("automated_decision", AUTOMATED_DECISIONS, nullable=False)
    puid = s.get("puid")
    if not filled(puid):
        fail("puid", "The puid field is required.")
    elif not isinstance(puid, str) or len(puid) > 500 or not PUID.match(puid):
        fail("puid", "The puid format is invalid.")
    return errors


class TransparencyReceiver:
    """The database's submission endpoints on a loopback port. `fail_first` answers the first calls
    with 503 and then 429 (Retry-After: 1); `refuse_puids` refuses those statements as the database
    would refuse a rule Warden does not know; `held` are puids the platform already submitted."""

    def __init__(self, token, port=0, fail_first=0, refuse_puids=(), held=()):
        receiver = self
        self.token, self.fail_first, self.refuse_puids = token, fail_first, set(refuse_puids)
        self.held = {p: str(uuid.uuid4()) for p in held}
        self.calls, self.created, self.bad_tokens = [], [], 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def authorised(self):
                if self.headers.get("Authorization") != f"Bearer {receiver.token}":
                    with receiver.lock:
                        receiver.bad_tokens += 1
                    self.answer(401, {"message": "Unauthenticated."})
                    return False
                return True

            def do_GET(self):
                prefix = "/api/v1/statement/existing-puid/"
                if not self.path.startswith(prefix):
                    return self.answer(404, {"message": "Not Found"})
                if not self.authorised():
                    return
                puid = self.path[len(prefix):]
                with receiver.lock:
                    found = puid in receiver.held
                self.answer(302 if found else 404, {"message": "statement of reason found" if found else "statement of reason not found", "puid": puid})

            def do_POST(self):
                if self.path not in ("/api/v1/statements", "/api/v1/statement"):
                    return self.answer(404, {"message": "Not Found"})
                if not self.authorised():
                    return
                if "application/json" not in (self.headers.get("Content-Type") or ""):
                    return self.answer(415, {"message": "Unsupported Media Type"})
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.calls.append(len(raw))
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        if receiver.fail_first % 2 == 1:
                            return self.answer(503, {"message": "Service Unavailable"})
                        return self.answer(429, {"message": "Too Many Attempts."}, [("Retry-After", "1")])
                try:
                    payload = json.loads(raw)
                except ValueError:
                    return self.answer(400, {"message": "Malformed JSON"})
                single = self.path == "/api/v1/statement"
                statements = [payload] if single else payload.get("statements") if isinstance(payload, dict) else None
                if not isinstance(statements, list) or not 1 <= len(statements) <= 100:
                    return self.answer(422, {"message": "The statements field must have between 1 and 100 items.",
                                             "errors": {"statements": ["The statements field must have between 1 and 100 items."]}})
                errors = {}
                for index, statement in enumerate(statements):
                    problems = validate(statement) if isinstance(statement, dict) else {"statement": ["must be an object"]}
                    if isinstance(statement, dict) and statement.get("puid") in receiver.refuse_puids:
                        problems.setdefault("decision_facts", []).append("The decision facts may not contain personal data.")
                    if problems:
                        errors[f"statement_{index}" if not single else "fields"] = problems
                if errors:
                    body = {"errors": errors["fields"]} if single else {"errors": errors}
                    return self.answer(422, {"message": "The given data was invalid.", **body})
                puids = [s["puid"] for s in statements]
                with receiver.lock:
                    repeated = sorted({p for p in puids if puids.count(p) > 1})
                    existing = repeated or sorted(p for p in puids if p in receiver.held)
                    if existing:
                        message = "The platform identifier(s) are not all unique within this call."
                        if single:
                            message = "The identifier given is not unique within this platform."
                            return self.answer(422, {"message": message, "errors": {"puid": [message]}, "existing": {"puid": puids[0]}})
                        return self.answer(422, {"message": message, "errors": {"puid": [message], "existing_puids": existing}})
                    out = []
                    for statement in statements:
                        made = dict(statement, uuid=str(uuid.uuid4()), created_at=datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
                                    platform_name="Warden test platform")
                        receiver.held[statement["puid"]] = made["uuid"]
                        receiver.created.append(made)
                        out.append(made)
                self.answer(201, out[0] if single else {"statements": out})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--token", required=True, help="the bearer token to accept")
    args = parser.parse_args()
    receiver = TransparencyReceiver(args.token, port=args.port)
    print(f"DSA Transparency Database stand-in at {receiver.url} (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        receiver.close()


if __name__ == "__main__":
    main()

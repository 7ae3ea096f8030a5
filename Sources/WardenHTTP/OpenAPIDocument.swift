/// The OpenAPI 3.1 description of every route, served at `/openapi.json`: the spec file
/// `openapi.json` next to this one, embedded in the binary when it is built. Tests hold it against
/// the routes the router really has (both ways), each route's scope (`x-warden-scope`) and the
/// responses the server really sends; `scripts/test` runs schemathesis against a live server with it.
enum OpenAPIDocument {
    /// The document's bytes, as served.
    static var bytes: [UInt8] { PackageResources.openapi_json }
}

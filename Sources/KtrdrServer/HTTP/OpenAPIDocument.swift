import Foundation
import KtrdrCore

/// The OpenAPI 3.1 description of the REST API, served at `/api/v1/openapi.json`.
/// Scenario checks validate real responses against these schemas.
enum OpenAPIDocument {
    /// Every metric is present (`null` when undefined), typed from `Metrics.Field`.
    static var metricsSchema: String {
        let properties = Metrics.Field.allCases.map { f in
            let type = switch f.kind {
            case .number: #"{"type": "number"}"#
            case .integer: #"{"type": "integer"}"#
            case .numberOrNull: ##"{"$ref": "#/components/schemas/NumberOrNull"}"##
            }
            return "\"\(f.json)\": \(type)"
        }
        let required = Metrics.Field.allCases.map { "\"\($0.json)\"" }
        return #"{"type": "object", "required": ["# + required.joined(separator: ", ") + #"], "properties": {"# + properties.joined(separator: ", ") + "}}"
    }

    /// The documented path templates (`/api/v1/operations/{id}`), literal ones first.
    static let pathTemplates: [String] = {
        guard let doc = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let paths = doc["paths"] as? [String: Any] else { return [] }
        return paths.keys.sorted { ($0.filter { $0 == "{" }.count, $0) < ($1.filter { $0 == "{" }.count, $1) }
    }()

    /// The request fields sweeps and walk-forwards share.
    static let sweepFields = #"""
            "strategy_name": {"$ref": "#/components/schemas/Name"}, "symbol": {"$ref": "#/components/schemas/Name"}, "timeframe": {"$ref": "#/components/schemas/Timeframe"},
            "initial_capital": {"type": "number"}, "commission": {"type": "number"}, "slippage": {"type": "number"},
            "params": {"type": "object", "additionalProperties": {"type": "number"}, "description": "plugin parameters fixed for every trial"},
            "overrides": {"type": "object", "additionalProperties": {"type": ["number", "boolean", "string"]}, "description": "strategy-file fields fixed for every trial, by YAML path"},
            "grid": {"type": "object", "minProperties": 1, "additionalProperties": {"oneOf": [{"type": "string", "description": "start:stop:step (inclusive), a,b,c or one number"}, {"type": "number"}, {"type": "array", "items": {"type": "number"}}]}},
            "where": {"type": "string", "description": "condition every trial meets: comparisons, + - * / %, and, or, not, parentheses (fast_period < slow_period)"},
            "method": {"enum": ["grid", "random"], "default": "grid"}, "samples": {"type": "integer", "minimum": 1, "maximum": 100000}, "seed": {"type": "integer", "minimum": 0, "maximum": 18446744073709551615},
            "rank": {"type": "string", "default": "sharpe_ratio", "description": "a metric name"}, "rank_order": {"enum": ["asc", "desc"]}
    """#

    /// The served document: `source` with the error responses routes share filled in: 400 where
    /// a route takes parameters or a body, 401 on mutating routes (they need a token), 404 where
    /// the path names something.
    static let json: String = {
        guard var doc = try? JSONSerialization.jsonObject(with: Data(source.utf8)) as? [String: Any],
              var paths = doc["paths"] as? [String: [String: Any]] else { return source }
        let error: [String: Any] = ["$ref": "#/components/responses/Error"]
        for (path, var item) in paths {
            let pathParameters = (item["parameters"] as? [Any])?.isEmpty == false
            for method in ["get", "head", "post", "put", "delete"] {
                guard var operation = item[method] as? [String: Any] else { continue }
                var responses = operation["responses"] as? [String: Any] ?? [:]
                let input = pathParameters || (operation["parameters"] as? [Any])?.isEmpty == false || operation["requestBody"] != nil
                if input, responses["400"] == nil { responses["400"] = error }
                if method != "get", method != "head", responses["401"] == nil { responses["401"] = error }
                if path.contains("{"), responses["404"] == nil { responses["404"] = error }
                operation["responses"] = responses
                item[method] = operation
            }
            paths[path] = item
        }
        doc["paths"] = paths
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .withoutEscapingSlashes]) else { return source }
        return String(decoding: data, as: UTF8.self)
    }()

    static let source = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "ktrdrd", "version": "1", "description": "Backtests as asynchronous operations. Every response is an envelope: {success: true, data} or {success: false, error: {code, message, details}}. Undefined metrics (a ratio with a zero denominator, an average over no trades) are null, never NaN or Infinity."},
      "paths": {
        "/health": {"get": {"summary": "Liveness, capacity and load", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
        "/api/v1/health": {"get": {"summary": "The same as /health, in the envelope", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HealthEnvelope"}}}}}}},
        "/metrics": {"get": {"summary": "Prometheus text exposition", "responses": {"200": {"description": "metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI document"}}}},
        "/api/v1/backtests/start": {"post": {
          "summary": "Validate and start a backtest",
          "description": "Every check that can be made before starting is made synchronously; no operation is created when one fails.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BacktestRequest"}}}},
          "responses": {
            "200": {"description": "started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/trainings/start": {"post": {
          "summary": "Validate and start training a strategy's model",
          "description": "Same body as a backtest (strategy_name, symbol, timeframe, start_date, end_date). Progress is per epoch (loss, train and validation accuracy); the result is a new model version.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BacktestRequest"}}}},
          "responses": {
            "200": {"description": "started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations": {"get": {
          "summary": "List operations, newest first",
          "parameters": [
            {"name": "status", "in": "query", "schema": {"$ref": "#/components/schemas/Status"}},
            {"name": "operation_type", "in": "query", "schema": {"enum": ["backtesting", "training", "sweep", "walkforward", "data_loading"]}},
            {"name": "active_only", "in": "query", "schema": {"type": "boolean"}},
            {"name": "parent_id", "in": "query", "schema": {"$ref": "#/components/schemas/OperationId"}, "description": "only the children (trials) of this operation"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}}],
          "responses": {"200": {"description": "operations", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperationListEnvelope"}}}},
                        "400": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations/{id}": {
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "get": {"summary": "One operation with live progress", "responses": {
            "200": {"description": "operation", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperationEnvelope"}}}},
            "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Cancel (idempotent); 409 when already completed or failed", "responses": {
            "200": {"description": "cancelled operation", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperationEnvelope"}}}},
            "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations/{id}/metrics": {"get": {
          "summary": "Sampled metric history, read incrementally with a cursor",
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                         {"name": "cursor", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}}],
          "responses": {"200": {"description": "samples", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MetricsEnvelope"}}}},
                        "404": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/sweeps/start": {"post": {
          "summary": "Validate and start a parameter sweep: one backtest per grid point, as one operation (operation_type sweep)",
          "description": "The grid, the condition, the rank metric and the first trial (through the plugin's own checks) are checked synchronously; a grid above 100,000 trials is refused. Results (GET /operations/{id}/results) rank every finished trial at any time.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SweepRequest"}}}},
          "responses": {
            "200": {"description": "started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "422": {"$ref": "#/components/responses/Error"}, "507": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/walkforwards/start": {"post": {
          "summary": "Validate and start a walk-forward (operation_type walkforward): per window, a sweep on the train bars, its best on the test bars after them",
          "description": "A sweep request without start_date/end_date, plus train, test and step in bars (step >= test). The first window starts after the longest warm-up any trial needs. For a strategy with a model section the grid is empty: each window trains its own model on its training bars (kept under the models directory, named in the window's model field) and tests it on the bars after. Results (GET /operations/{id}/results): per window the chosen parameters and in- and out-of-sample metrics; the out-of-sample parts stitched; the walk-forward efficiency.",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WalkForwardRequest"}}}},
          "responses": {
            "200": {"description": "started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}},
            "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
            "422": {"$ref": "#/components/responses/Error"}, "507": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations/{id}/results": {"get": {
          "summary": "Full result of a completed backtest (metrics, trades, equity curve), or a sweep's ranked trials (at any time)",
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                         {"name": "equity_curve", "in": "query", "schema": {"type": "boolean", "default": true}, "description": "false: omit the equity curve (empty arrays)"}],
          "responses": {"200": {"description": "result", "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/ResultEnvelope"}, {"$ref": "#/components/schemas/SweepResultEnvelope"}, {"$ref": "#/components/schemas/WalkForwardResultEnvelope"}]}}}},
                        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/strategies": {"get": {"summary": "Strategy files and whether each validates", "responses": {"200": {"description": "strategies", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyEnvelope"}}}}}}},
        "/api/v1/models": {"get": {"summary": "Trained models", "responses": {"200": {"description": "models", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyEnvelope"}}}}}}},
        "/api/v1/plugins": {"get": {"summary": "Loaded plugin generations, the operations on each, and refused files", "responses": {"200": {"description": "plugins", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyEnvelope"}}}}}}},
        "/api/v1/workers": {"get": {"summary": "A server's workers: static and registered, health, capacity, plugins, cached data, operations assigned", "responses": {"200": {"description": "workers", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyEnvelope"}}}}}}},
        "/api/v1/workers/register": {"post": {"summary": "A worker's registration heartbeat (bearer: KTRDR_WORKER_TOKEN)", "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WorkerInfo"}}}},
          "responses": {"200": {"description": "the server's workers", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyEnvelope"}}}}, "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/worker/dispatch": {"post": {"summary": "Worker: run a server's backtest under a lease (strategy text, data blob by SHA-256, attempt, lease)",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["run", "strategy_source", "data_sha256", "server_operation_id", "attempt", "lease", "lease_seconds"],
            "additionalProperties": false, "properties": {"run": {"$ref": "#/components/schemas/BacktestRequest"}, "strategy_source": {"type": "string"},
              "data_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "plugin": {"type": "object", "required": ["name", "version"], "properties": {"name": {"type": "string"}, "version": {"type": "string"}}},
              "server_operation_id": {"type": "string"}, "attempt": {"type": "integer", "minimum": 1, "maximum": 9223372036854775807}, "lease": {"type": "string"}, "lease_seconds": {"type": "number", "exclusiveMinimum": 0}}}}}},
          "responses": {"200": {"description": "started", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Started"}}}}, "404": {"$ref": "#/components/responses/Error", "description": "not a worker"}, "409": {"$ref": "#/components/responses/Error"}, "422": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/blobs/{sha256}": {
          "parameters": [{"name": "sha256", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}],
          "head": {"summary": "Worker: is this data file here?", "responses": {"200": {"description": "present"}, "404": {"description": "absent"}}},
          "put": {"summary": "Worker: store a data file; kept only if its SHA-256 is its name", "requestBody": {"required": true, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": {"description": "stored", "content": {"application/json": {"schema": {"type": "object", "required": ["sha256", "bytes", "received"]}}}}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/operations/{id}/result-package": {"get": {"summary": "Worker: a completed result as one checked package (header X-Ktrdr-Lease: the attempt's lease)",
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
          "responses": {"200": {"description": "package", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}, "409": {"$ref": "#/components/responses/Error"}}}},
        "/api/v1/plugins/reload": {"post": {"summary": "Rescan the plugins directory; new builds load beside the old ones", "responses": {"200": {"description": "reload report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnyEnvelope"}}}}}}}
      },
      "components": {
        "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        "schemas": {
          "Status": {"enum": ["pending", "running", "completed", "failed", "cancelled"]},
          "NumberOrNull": {"type": ["number", "null"]},
          "Name": {"type": "string", "pattern": "^(?!\\.\\.?$)[A-Za-z0-9._-]{1,32}$", "description": "a strategy or symbol name (a file name part, checked before any file access)"},
          "Timeframe": {"enum": ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"], "description": "1M is a calendar month, 1m a minute"},
          "Date": {"type": "string", "format": "date", "description": "YYYY-MM-DD (UTC); YYYY-MM-DDTHH:MM[:SS][Z] is also taken"},
          "OperationId": {"type": "string", "pattern": "^op_[a-z0-9_]{1,61}$"},
          "WindowLength": {"description": "bars (an integer, or digits as a string) or a calendar span: a number and min, h, d, w, mo or y (months and years keep the day of the month)",
            "oneOf": [{"type": "integer", "minimum": 1, "maximum": 9223372036854775807}, {"type": "string", "pattern": "^[1-9][0-9]{0,8}(min|h|d|w|mo|y)?$"}]},
          "Error": {"type": "object", "required": ["success", "error"], "properties": {
            "success": {"const": false},
            "error": {"type": "object", "required": ["code", "message"], "properties": {
              "code": {"type": "string"}, "message": {"type": "string"},
              "details": {"type": "object", "additionalProperties": {"type": "string"}},
              "problems": {"type": "array", "items": {"type": "object", "required": ["path", "message"], "properties": {"path": {"type": "string"}, "line": {"type": "integer"}, "message": {"type": "string"}}}}}}}},
          "BacktestRequest": {"type": "object", "required": ["strategy_name", "symbol", "timeframe"], "additionalProperties": false,
            "description": "A field not listed here is a 400 unknown_field naming it.", "properties": {
            "strategy_name": {"$ref": "#/components/schemas/Name"}, "symbol": {"$ref": "#/components/schemas/Name"},
            "timeframe": {"$ref": "#/components/schemas/Timeframe"},
            "start_date": {"$ref": "#/components/schemas/Date", "description": "omitted: from the file's first bar"},
            "end_date": {"$ref": "#/components/schemas/Date", "description": "inclusive; a date alone covers the whole day"},
            "initial_capital": {"type": "number", "default": 100000}, "commission": {"type": "number", "default": 0.001},
            "slippage": {"type": "number", "default": 0.0005}, "model_path": {"type": "string"}, "mode": {"enum": ["local", "remote"], "description": "remote: run on a worker (the server needs workers); default: local, or remote with USE_REMOTE_BACKTEST_SERVICE=true"},
            "pace_bars_per_second": {"type": "number", "minimum": 1, "description": "replay pacing: at most this many bars per second; omitted: full speed"},
            "params": {"type": "object", "additionalProperties": {"type": "number"}, "description": "plugin parameters for this run, written over the file's params and checked as the file's (422 strategy_invalid naming the parameter and the value given)"},
            "overrides": {"type": "object", "additionalProperties": {"type": ["number", "boolean", "string"]}, "description": "any other strategy-file field for this run, by dotted YAML path (decisions.confidence_threshold); name and plugin cannot be overridden"}}},
          "Progress": {"type": "object", "required": ["percentage", "current_step", "items_processed", "items_total", "context"], "properties": {
            "percentage": {"type": "number", "minimum": 0, "maximum": 100}, "current_step": {"type": "string"},
            "items_processed": {"type": "integer"}, "items_total": {"type": "integer"},
            "context": {"type": "object", "properties": {"current_date": {"type": "string"}, "current_pnl": {"type": "number"},
              "phase": {"enum": ["loading_data"], "description": "set while the data file loads, before the first bar runs"},
              "bytes_done": {"type": "integer"}, "bytes_total": {"type": "integer"},
              "total_trades": {"type": "integer"}, "win_rate": {"type": "number"}, "bars_per_second": {"type": "number"}}}}},
          "Operation": {"type": "object", "required": ["operation_id", "operation_type", "status", "created_at", "progress", "metadata"], "properties": {
            "operation_id": {"type": "string", "pattern": "^op_[a-z_]+_[0-9]{8}_[0-9]{6}_[0-9a-f]{8}$"},
            "operation_type": {"enum": ["backtesting", "training", "sweep", "walkforward", "data_loading"]}, "status": {"$ref": "#/components/schemas/Status"},
            "created_at": {"type": "string"}, "started_at": {"type": "string"}, "completed_at": {"type": "string"},
            "duration_seconds": {"type": "number"}, "progress": {"$ref": "#/components/schemas/Progress"},
            "metadata": {"type": "object", "required": ["parameters", "mode"]},
            "result_summary": {"$ref": "#/components/schemas/Metrics"},
            "error": {"type": "object", "required": ["code", "message"]},
            "parent_id": {"type": "string", "description": "the operation this one is a trial of (sweeps, walk-forward)"}}},
          "Started": {"type": "object", "required": ["success", "operation_id", "status", "message", "symbol", "timeframe", "mode", "data"], "properties": {
            "success": {"const": true}, "operation_id": {"type": "string"}, "status": {"const": "started"}, "message": {"type": "string"},
            "symbol": {"type": "string"}, "timeframe": {"type": "string"}, "mode": {"enum": ["local", "remote", "dispatched"]},
            "data": {"$ref": "#/components/schemas/Operation"}}},
          "OperationEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"$ref": "#/components/schemas/Operation"}}},
          "OperationListEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"type": "object",
            "required": ["operations", "total_count", "limit", "offset"], "properties": {"operations": {"type": "array", "items": {"$ref": "#/components/schemas/Operation"}},
            "total_count": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"}}}}},
          "MetricsEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"type": "object",
            "required": ["operation_id", "status", "metrics", "cursor"], "properties": {"cursor": {"type": "integer"}, "metrics": {"type": "object", "properties": {"bars": {"type": "array",
            "items": {"type": "object", "required": ["bar", "date", "equity", "pnl", "trades"]}}}}}}}},
          "Metrics": \#(metricsSchema),
          "Trade": {"type": "object", "required": [\#(Trade.Field.allCases.map { "\"\($0.json)\"" }.joined(separator: ", "))], "properties": {
            "side": {"enum": ["long", "short"]}, "exit_reason": {"enum": ["signal", "end_of_data", "stop_loss", "take_profit", "trailing_stop"]}}},
          "ResultEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"type": "object",
            "required": ["strategy", "symbol", "timeframe", "bars", "metrics", "trades", "equity_curve"], "properties": {
              "metrics": {"$ref": "#/components/schemas/Metrics"}, "trades": {"type": "array", "items": {"$ref": "#/components/schemas/Trade"}},
              "equity_curve": {"type": "object", "required": ["timestamps", "equity", "drawdown_pct", "position"], "description": "Parallel arrays; timestamps in UTC epoch seconds."},
              "warnings": {"type": "array", "items": {"type": "string"}, "description": "present when the user should know something, e.g. a timeframe label the bars' spacing does not match"}}}}},
          "SweepRequest": {"type": "object", "required": ["strategy_name", "symbol", "timeframe", "grid"], "additionalProperties": false, "properties": {
            "start_date": {"$ref": "#/components/schemas/Date"}, "end_date": {"$ref": "#/components/schemas/Date"},
            \#(sweepFields)}},
          "WalkForwardRequest": {"type": "object", "required": ["strategy_name", "symbol", "timeframe", "grid", "train", "test"], "additionalProperties": false,
            "description": "The fields of SweepRequest except start_date and end_date, plus train, test and step (bars, or spans such as 6mo).", "properties": {
            "train": {"$ref": "#/components/schemas/WindowLength", "description": "in sample per window"}, "test": {"$ref": "#/components/schemas/WindowLength", "description": "out of sample, right after"},
            "step": {"$ref": "#/components/schemas/WindowLength", "description": "between window starts; default test; at least test"},
            \#(sweepFields.replacingOccurrences(of: #""grid": {"type": "object", "minProperties": 1,"#, with: #""grid": {"type": "object", "description": "empty for a strategy with a model (each window trains one)","#))}},
          "SweepResultEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"type": "object",
            "required": ["operation_id", "status", "rank", "rank_order", "parameters", "trials_total", "trials_completed", "trials_failed", "trials"], "properties": {
              "trials": {"type": "array", "items": {"type": "object", "required": ["index", "params", "status"], "properties": {
                "params": {"type": "object", "additionalProperties": {"type": "number"}}, "status": {"enum": ["completed", "failed"]},
                "metrics": {"$ref": "#/components/schemas/Metrics"}}}},
              "rerun": {"type": "string", "description": "the ktrdrctl command that re-runs the best trial as a full backtest"},
              "overfitting": {"type": "object", "description": "deflated Sharpe ratio of the top trial (Bailey and Lopez de Prado 2014) and probability of backtest overfitting by CSCV (16 blocks; up to 2,000 trials)",
                "properties": {"deflated_sharpe_ratio": {"type": ["number", "null"]}, "expected_max_sharpe": {"type": ["number", "null"]},
                  "best_sharpe": {"type": ["number", "null"]}, "pbo": {"type": ["number", "null"]}, "pbo_splits": {"type": ["integer", "null"]}, "trials": {"type": "integer"}}}}}}},
          "WalkForwardResultEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"type": "object",
            "required": ["operation_id", "status", "rank", "parameters", "windows_total", "windows"], "properties": {
              "windows": {"type": "array", "items": {"type": "object", "required": ["index", "train_start", "train_end", "test_start", "test_end", "trials"], "properties": {
                "params": {"type": "object", "additionalProperties": {"type": "number"}}, "in_sample": {"$ref": "#/components/schemas/Metrics"}, "out_of_sample": {"$ref": "#/components/schemas/Metrics"},
                "model": {"type": "string", "description": "model strategies: the model trained on this window's training bars, as model_path takes it"}}}},
              "out_of_sample": {"type": "object", "required": ["bars", "total_return_pct", "max_drawdown_pct", "trades"]}}}}},
          "HealthEnvelope": {"type": "object", "required": ["success", "data"], "properties": {"success": {"const": true}, "data": {"$ref": "#/components/schemas/Health"}}},
          "Health": {"type": "object", "required": ["status", "version", "running", "pending", "capacity"], "properties": {
            "role": {"enum": ["server", "worker"]}, "worker": {"$ref": "#/components/schemas/WorkerInfo"}, "workers_healthy": {"type": "integer"}}},
          "WorkerInfo": {"type": "object", "required": ["url", "version", "capacity", "running", "pending", "plugins", "blobs", "instance"], "properties": {
            "url": {"type": "string"}, "version": {"type": "string"}, "capacity": {"type": "integer"}, "running": {"type": "integer"}, "pending": {"type": "integer"},
            "plugins": {"type": "array", "items": {"type": "object", "required": ["name", "version"]}}, "blobs": {"type": "array", "items": {"type": "string"}}, "instance": {"type": "string"}}},
          "AnyEnvelope": {"type": "object", "required": ["success", "data"]}
        }
      }
    }
    """#
}

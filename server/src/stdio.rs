//! The stdio transport: newline-delimited JSON-RPC on stdin and stdout, owned here rather than
//! left to the SDK so that the server can keep three promises whatever a client sends:
//! - every line gets an answer: a line that is not a valid message is answered with the
//!   JSON-RPC error the specification names (-32700, -32600, -32601, -32602), never dropped;
//! - memory stays bounded: a line longer than the limit is skipped without being buffered, and
//!   no more than `max_in_flight` requests are read ahead of their responses;
//! - stdout carries nothing but protocol messages, written by one task in order.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorCode, ErrorData, JsonRpcMessage, RequestId, ServerJsonRpcMessage};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, mpsc};

/// Methods this server implements; a request for one of them whose params do not fit is
/// answered with "invalid params", any other unknown method with "method not found".
const KNOWN_METHODS: [&str; 15] = [
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "prompts/list",
    "prompts/get",
    "logging/setLevel",
    "completion/complete",
    "skills/list",
    "skills/get",
    "resources/directory/read",
];

/// Limits that keep the server's memory bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest line accepted, in bytes; longer lines are skipped and refused.
    pub max_line_bytes: usize,
    /// Requests read ahead of their responses; reading pauses beyond this.
    pub max_in_flight: usize,
}

/// Requests read but not yet answered, by id, so that reading can pause when too many are open.
struct InFlight {
    open: Mutex<HashSet<String>>,
    changed: Notify,
}

impl InFlight {
    fn count(&self) -> usize {
        self.open.lock().map_or(0, |open| open.len())
    }
    fn start(&self, id: &RequestId) {
        if let Ok(mut open) = self.open.lock() {
            open.insert(id.to_string());
        }
    }
    fn finish(&self, id: &RequestId) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id.to_string());
        }
        self.changed.notify_one();
    }
}

pub struct StdioTransport<R> {
    lines: BufReader<R>,
    line: Vec<u8>,
    out: mpsc::Sender<Vec<u8>>,
    in_flight: Arc<InFlight>,
    limits: Limits,
}

/// One line read from stdin.
enum Line {
    Text,
    TooLong(usize),
    End,
}

impl<R: AsyncRead + Unpin + Send> StdioTransport<R> {
    /// The transport, and the task that writes its output to `writer` (await it after the
    /// service ends so that the last responses are flushed).
    pub fn new<W: AsyncWrite + Unpin + Send + 'static>(
        reader: R,
        writer: W,
        limits: Limits,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (out, rx) = mpsc::channel(64);
        let writer_task = tokio::spawn(write_lines(writer, rx));
        let transport = Self {
            lines: BufReader::with_capacity(64 * 1024, reader),
            line: Vec::new(),
            out,
            in_flight: Arc::new(InFlight { open: Mutex::new(HashSet::new()), changed: Notify::new() }),
            limits,
        };
        (transport, writer_task)
    }

    /// Reads one line into `self.line`, never buffering more than the limit.
    async fn read_line(&mut self) -> std::io::Result<Line> {
        self.line.clear();
        let mut skipped = 0usize;
        loop {
            let buffer = self.lines.fill_buf().await?;
            if buffer.is_empty() {
                return Ok(if skipped > 0 {
                    Line::TooLong(skipped)
                } else if self.line.is_empty() {
                    Line::End
                } else {
                    Line::Text
                });
            }
            let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
                Some(i) => (&buffer[..i], Some(i + 1)),
                None => (buffer, None),
            };
            if skipped > 0 || self.line.len() + chunk.len() > self.limits.max_line_bytes {
                skipped += self.line.len() + chunk.len();
                self.line.clear();
            } else {
                self.line.extend_from_slice(chunk);
            }
            let consumed = done.unwrap_or(buffer.len());
            self.lines.consume(consumed);
            if done.is_some() {
                return Ok(if skipped > 0 { Line::TooLong(skipped) } else { Line::Text });
            }
        }
    }

    async fn reply_error(&mut self, id: Option<RequestId>, error: ErrorData) {
        reply_error(&self.out, id, error).await;
    }

    /// Turns the current line into a message, or answers it with an error and returns None.
    async fn decode(&mut self) -> Option<ClientJsonRpcMessage> {
        let text = String::from_utf8_lossy(&self.line);
        if text.trim().is_empty() {
            return None;
        }
        let value = match serde_json::from_str::<Value>(&text) {
            Ok(value) => value,
            Err(first) => match repair_non_finite(&text).and_then(|fixed| serde_json::from_str::<Value>(&fixed).ok()) {
                Some(value) => value,
                None => {
                    let error = ErrorData::new(ErrorCode::PARSE_ERROR, format!("Parse error: the line is not JSON ({first})"), None);
                    self.reply_error(None, error).await;
                    return None;
                }
            },
        };
        let id = value.get("id").and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
        let method = value.get("method").and_then(Value::as_str).map(str::to_string);
        let envelope_problem = if !value.is_object() {
            Some("a message must be a JSON object (batches are not supported)".to_string())
        } else if value.get("jsonrpc") != Some(&Value::from("2.0")) {
            Some("the `jsonrpc` member must be \"2.0\"".to_string())
        } else if method.is_none() && value.get("result").is_none() && value.get("error").is_none() {
            Some("a request needs a string `method`".to_string())
        } else if value.get("id").is_some() && id.is_none() {
            Some("the `id` must be a string or an integer".to_string())
        } else if value.get("params").is_some_and(|p| !p.is_object() && !p.is_array()) {
            Some("`params` must be an object".to_string())
        } else {
            None
        };
        if let Some(problem) = envelope_problem {
            self.reply_error(id, ErrorData::invalid_request(format!("Invalid request: {problem}"), None)).await;
            return None;
        }
        match serde_json::from_value::<ClientJsonRpcMessage>(value) {
            Ok(JsonRpcMessage::Request(request)) => {
                if let ClientRequest::CustomRequest(custom) = &request.request {
                    let method = custom.method.clone();
                    let error = if KNOWN_METHODS.contains(&method.as_str()) {
                        ErrorData::invalid_params(format!("Invalid params for `{method}`: check its parameters against the specification (e.g. tools/call takes `name` and an object `arguments`)"), None)
                    } else {
                        ErrorData::new(ErrorCode::METHOD_NOT_FOUND, format!("Method not found: `{method}`"), None)
                    };
                    self.reply_error(Some(request.id), error).await;
                    return None;
                }
                self.in_flight.start(&request.id);
                Some(JsonRpcMessage::Request(request))
            }
            Ok(JsonRpcMessage::Notification(notification)) => {
                if let rmcp::model::ClientNotification::CancelledNotification(cancelled) = &notification.notification {
                    if let Some(id) = &cancelled.params.request_id {
                        self.in_flight.finish(id);
                    }
                }
                Some(JsonRpcMessage::Notification(notification))
            }
            Ok(other) => Some(other),
            Err(e) => {
                let error = match (&id, &method) {
                    (Some(_), Some(m)) if KNOWN_METHODS.contains(&m.as_str()) => {
                        ErrorData::invalid_params(format!("Invalid params for `{m}`: {e}"), None)
                    }
                    (Some(_), Some(m)) => ErrorData::new(ErrorCode::METHOD_NOT_FOUND, format!("Method not found: `{m}`"), None),
                    _ => ErrorData::invalid_request(format!("Invalid request: {e}"), None),
                };
                // A notification is never answered, even when malformed.
                if id.is_some() || method.is_none() {
                    self.reply_error(id, error).await;
                }
                None
            }
        }
    }
}

impl<R: AsyncRead + Unpin + Send + 'static> Transport<RoleServer> for StdioTransport<R> {
    type Error = std::io::Error;

    fn send(&mut self, item: TxJsonRpcMessage<RoleServer>) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &item {
            JsonRpcMessage::Response(response) => Some(response.id.clone()),
            JsonRpcMessage::Error(error) => error.id.clone(),
            _ => None,
        };
        let out = self.out.clone();
        let in_flight = self.in_flight.clone();
        async move {
            let mut bytes = serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            bytes.push(b'\n');
            let sent = out.send(bytes).await.map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe));
            if let Some(id) = answered {
                in_flight.finish(&id);
            }
            sent
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        loop {
            while self.in_flight.count() >= self.limits.max_in_flight {
                let changed = self.in_flight.changed.notified();
                if self.in_flight.count() < self.limits.max_in_flight {
                    break;
                }
                changed.await;
            }
            match self.read_line().await {
                Ok(Line::End) | Err(_) => return None,
                Ok(Line::TooLong(bytes)) => {
                    let message = format!(
                        "Invalid request: the message is {bytes} bytes, over the limit of {} bytes",
                        self.limits.max_line_bytes
                    );
                    self.reply_error(None, ErrorData::invalid_request(message, None)).await;
                }
                Ok(Line::Text) => {
                    if let Some(message) = self.decode().await {
                        return Some(message);
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Answers a line that never reached the service.
async fn reply_error(out: &mpsc::Sender<Vec<u8>>, id: Option<RequestId>, error: ErrorData) {
    let message = ServerJsonRpcMessage::error(error, id);
    if let Ok(mut bytes) = serde_json::to_vec(&message) {
        bytes.push(b'\n');
        let _ = out.send(bytes).await;
    }
}

/// Writes each message as one line; flushes whenever no further message is waiting, so that a
/// burst of responses costs one write.
async fn write_lines<W: AsyncWrite + Unpin>(writer: W, mut rx: mpsc::Receiver<Vec<u8>>) {
    let mut writer = tokio::io::BufWriter::with_capacity(64 * 1024, writer);
    while let Some(bytes) = rx.recv().await {
        if writer.write_all(&bytes).await.is_err() {
            return;
        }
        while let Ok(more) = rx.try_recv() {
            if writer.write_all(&more).await.is_err() {
                return;
            }
        }
        if writer.flush().await.is_err() {
            return;
        }
    }
    let _ = writer.flush().await;
}

/// JSON has no NaN or infinity, but some clients (Python's `json.dumps`) write `NaN`,
/// `Infinity` and numbers beyond f64. Quoting those tokens lets the message be read, so the
/// tool can refuse the field by name instead of the whole line failing to parse.
fn repair_non_finite(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut i = 0;
    let mut last = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'N' | b'I' | b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-')) {
                    i += 1;
                }
                let token = &text[start..i];
                let non_finite = matches!(token, "NaN" | "Infinity" | "-Infinity" | "-NaN")
                    || (token.bytes().next().is_some_and(|b| b == b'-' || b.is_ascii_digit())
                        && token.parse::<f64>().is_ok_and(|n| n.is_infinite()));
                if non_finite {
                    out.push_str(&text[last..start]);
                    out.push('"');
                    out.push_str(token);
                    out.push('"');
                    last = i;
                    changed = true;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[last.min(text.len())..]);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_non_finite_numbers_outside_strings() {
        let fixed = repair_non_finite(r#"{"a": NaN, "b": "NaN", "c": -Infinity, "d": 1e400, "e": 12}"#).unwrap();
        assert_eq!(fixed, r#"{"a": "NaN", "b": "NaN", "c": "-Infinity", "d": "1e400", "e": 12}"#);
        assert_eq!(repair_non_finite(r#"{"a": 1.5}"#), None);
    }
}

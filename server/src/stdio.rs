//! The stdio transport: newline-delimited JSON-RPC on stdin and stdout, owned here rather than
//! left to the SDK so that the server can keep three promises whatever a client sends:
//! - every line gets an answer: a line that is not a valid message is answered with the
//!   JSON-RPC error the specification names (-32700, -32600, -32601, -32602), never dropped;
//! - memory stays bounded: a line longer than the limit is skipped without being buffered, no
//!   more than `max_in_flight` requests are read ahead of their responses, and reading pauses
//!   while more than `OUTPUT_BUDGET` bytes of answers wait for a client that reads slowly (one
//!   tool answer can be megabytes: a reshard plan's shard map);
//! - stdout carries nothing but protocol messages, written whole and one at a time;
//! - every request read is answered before the process exits, however soon stdin closes after
//!   it: the end of input reaches rmcp only once it has answered every request it was handed.
//!
//! Every valid message goes to rmcp, which answers it through [`Transport::send`]; this module
//! answers only the lines rmcp never sees. Two threads of its own do the blocking I/O: the
//! input thread reads and decodes lines, the writer thread writes the queued answers, whatever
//! waits when it wakes in one write, so a pipelining client gets few large writes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rmcp::RoleServer;
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, ErrorCode, ErrorData, GetMeta, JsonRpcMessage,
    ProtocolVersion, RequestId, ServerJsonRpcMessage,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Notify, mpsc};

use crate::memory;
use crate::protocol::{KNOWN_METHODS, clip, supported_versions};

/// Limits that keep the server's memory bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest line accepted, in bytes; longer lines are skipped and refused.
    pub max_line_bytes: usize,
    /// Requests read ahead of their responses; reading pauses beyond this.
    pub max_in_flight: usize,
}

/// Bytes of answers queued for stdout beyond which reading pauses until the client catches up.
const OUTPUT_BUDGET: usize = 128 * 1024;

/// The piece written at a time: after each, reading may resume if the queue is back under the
/// budget, rather than once a megabyte answer has been taken whole.
const WRITE_PIECE: usize = 64 * 1024;

/// A line or an answer this large (a full reshard plan is half a megabyte) leaves
/// megabytes freed behind it, which the allocator keeps for reuse (mimalloc purges after a
/// second, and only when it next runs). After one, the writer gives memory back at once
/// ([`memory::give_back`]), so that an idle server stays at its idle size after the largest
/// request and the largest answer.
const LARGE_BYTES: usize = 256 * 1024;

/// After stdin ends, how long rmcp may go without answering any of the requests it still holds
/// before the session ends anyway. Handlers answer in milliseconds, so this is reached only if
/// rmcp dropped a request, and then the process still exits.
const UNANSWERED_LIMIT: Duration = Duration::from_secs(5);

/// How long the last answers may go without a byte reaching stdout before the process exits
/// without them: a client that stopped reading is not waited for, one that reads slowly is.
pub const STALLED_OUTPUT_LIMIT: Duration = Duration::from_millis(500);

/// The longest text of a client's that an error message repeats (a method or tool name).
const ECHO_LIMIT: usize = 120;

/// The longest error message sent; serde errors may quote a whole (huge) value.
const MESSAGE_LIMIT: usize = 1024;

/// What the input thread, the writer thread and rmcp's side share.
struct Shared {
    state: Mutex<State>,
    /// Wakes the writer thread: answers to write, or the end.
    to_writer: Condvar,
    /// Wakes the input thread (room to read on) and `finish` (the writer is done).
    to_input: Condvar,
    /// Wakes `receive` when stdout fails, so that rmcp ends while stdin is still open.
    gone: Notify,
    /// Wakes `receive` when a request is answered, which after the end of stdin it waits for.
    answered: Notify,
    /// Wakes `receive` to give memory back on rmcp's thread: the answer's parts were built and
    /// freed there, and mimalloc returns a thread's freed pages only when that thread collects.
    give_back_on_rmcp: Notify,
    /// A line or an answer of more than [`LARGE_BYTES`] came through since memory was last
    /// given back: once the answer is written, its memory can go back to the system.
    large_since_give_back: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Requests handed to rmcp and not answered yet, by id: what they ask (see [`answer_kind`])
    /// and the size their answer is expected to have.
    open: HashMap<RequestId, (String, usize)>,
    /// The sum of the open requests' expected answer sizes.
    open_bytes: usize,
    /// The size of the answers of late to each kind of request, in bytes: the largest seen,
    /// decaying by an eighth with each smaller one. rmcp answers the open requests side by
    /// side, so what they will queue must fit the output budget beside what waits already.
    answer_sizes: HashMap<String, usize>,
    /// Answers waiting to be written, whole lines.
    queued: Vec<u8>,
    /// Bytes taken by the writer thread and not written yet.
    writing: usize,
    /// Bytes written to stdout so far: how `Finish` tells a slow client from one that stopped.
    written: u64,
    /// No more answers will be queued: the writer thread leaves once the queue is empty.
    ending: bool,
    /// The writer thread has left.
    writer_done: bool,
    /// Writing to stdout failed: the client has gone.
    broken: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues whole answer lines for the writer thread.
    fn queue(&self, lines: &[u8]) {
        let mut state = self.lock();
        if state.broken {
            return;
        }
        state.queued.extend_from_slice(lines);
        if lines.len() > LARGE_BYTES {
            self.large_since_give_back.store(true, Ordering::Relaxed);
        }
        self.to_writer.notify_one();
    }

    /// Records a request for rmcp once its answer, of the size answers of its kind had of late
    /// (the whole budget for a kind not seen yet: it runs alone), fits the output budget beside
    /// the open requests' and the queued answers; one request may always be open. Refused
    /// (false) when a request with the same id is still unanswered (rmcp would answer only one
    /// of the two); `Err` when stdout has failed.
    fn open_request(&self, id: &RequestId, kind: String) -> Result<bool, ()> {
        let mut state = self.lock();
        if state.open.contains_key(id) {
            return Ok(false);
        }
        let expected = state
            .answer_sizes
            .get(&kind)
            .copied()
            .unwrap_or(OUTPUT_BUDGET);
        loop {
            if state.broken {
                return Err(());
            }
            let queued = state.queued.len() + state.writing;
            if state.open.is_empty() || queued + state.open_bytes + expected <= OUTPUT_BUDGET {
                break;
            }
            state = self
                .to_input
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.open_bytes += expected;
        state.open.insert(id.clone(), (kind, expected));
        Ok(true)
    }

    /// Forgets an open request; `answer` is the size of its answer, if it had one.
    fn close_request(&self, id: &RequestId, answer: Option<usize>) {
        let mut state = self.lock();
        if let Some((kind, expected)) = state.open.remove(id) {
            state.open_bytes -= expected;
            if let Some(bytes) = answer {
                let size = state.answer_sizes.entry(kind).or_insert(0);
                *size = bytes.max(*size - *size / 8);
            }
            self.to_input.notify_all();
            self.answered.notify_one();
        }
    }

    /// How many requests rmcp holds that it has not answered yet.
    fn unanswered(&self) -> usize {
        self.lock().open.len()
    }

    /// Waits until another line may be read: fewer than `max_in_flight` requests open and the
    /// queue within its budget. False when stdout has failed.
    fn wait_for_room(&self, max_in_flight: usize) -> bool {
        let mut state = self.lock();
        loop {
            if state.broken {
                return false;
            }
            if state.open.len() < max_in_flight
                && state.queued.len() + state.writing <= OUTPUT_BUDGET
            {
                return true;
            }
            state = self
                .to_input
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn is_broken(&self) -> bool {
        self.lock().broken
    }
}

/// The writer thread: waits for answers, writes everything queued, and leaves when the
/// transport ends (after writing what is queued) or stdout fails.
fn write_loop(shared: &Shared, mut output: Box<dyn Write + Send>) {
    let mut batch = Vec::new();
    loop {
        {
            let mut state = shared.lock();
            loop {
                if state.broken || (state.ending && state.queued.is_empty()) {
                    state.writer_done = true;
                    shared.to_input.notify_all();
                    return;
                }
                if !state.queued.is_empty() {
                    break;
                }
                state = shared
                    .to_writer
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            batch.clear();
            std::mem::swap(&mut state.queued, &mut batch);
            state.writing = batch.len();
        }
        let mut written = true;
        for piece in batch.chunks(WRITE_PIECE) {
            written = output.write_all(piece).is_ok();
            if !written {
                break;
            }
            {
                let mut state = shared.lock();
                state.writing -= piece.len();
                state.written += piece.len() as u64;
            }
            shared.to_input.notify_all();
        }
        written = written && output.flush().is_ok();
        // After a large answer (a reshard plan is half a megabyte) or a large request, give
        // the memory back. A batch of many small answers is no reason: their memory is reused
        // by the next ones (collecting after each such batch cost a tenth of the CPU under
        // pipelined load, in page faults).
        if batch.capacity() > 4 * OUTPUT_BUDGET {
            batch = Vec::new();
        }
        if shared.large_since_give_back.swap(false, Ordering::Relaxed) {
            memory::give_back();
            shared.give_back_on_rmcp.notify_one();
        }
        let mut state = shared.lock();
        state.writing = 0;
        if !written {
            state.broken = true;
            state.queued = Vec::new();
            shared.gone.notify_one();
        }
        shared.to_input.notify_all();
    }
}

/// One line read from stdin.
enum Line {
    Text,
    TooLong(usize),
    End,
}

/// The input thread's side: the reader, the line being read, and the handshake state.
struct Input<R> {
    lines: BufReader<R>,
    /// The line read so far.
    line: Vec<u8>,
    /// Bytes of the current line skipped because it is over the limit (0 while within it).
    skipped: usize,
    /// Whether rmcp has left its handshake stage. Before that it ends the session on any
    /// message that is not a request, so notifications and responses are dropped until then.
    session_started: bool,
    shared: Arc<Shared>,
    to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    limits: Limits,
}

impl<R: Read> Input<R> {
    fn run(mut self) {
        while self.shared.wait_for_room(self.limits.max_in_flight) {
            match self.read_line() {
                Ok(Line::End) | Err(_) => break,
                Ok(Line::TooLong(bytes)) => {
                    self.shared
                        .large_since_give_back
                        .store(bytes > LARGE_BYTES, Ordering::Relaxed);
                    let message = format!(
                        "Invalid request: the message is {bytes} bytes, over the limit of {} bytes (--max-message-bytes); it was skipped",
                        self.limits.max_line_bytes
                    );
                    let reply = encode_error(None, ErrorData::invalid_request(message, None));
                    self.shared.queue(&reply);
                }
                Ok(Line::Text) => {
                    if self.line.len() > LARGE_BYTES {
                        self.shared
                            .large_since_give_back
                            .store(true, Ordering::Relaxed);
                    }
                    let line = std::mem::take(&mut self.line);
                    let handled = self.handle(&line);
                    // Keep the buffer for the next line, unless a long line made it large.
                    self.line = line;
                    self.line.clear();
                    self.line.shrink_to(64 * 1024);
                    if !handled {
                        break;
                    }
                }
            }
        }
        // Dropping `to_rmcp` tells `receive` that input has ended; rmcp hears it once it has
        // answered every request it holds.
    }

    /// Handles one line; false once rmcp has stopped taking messages.
    fn handle(&mut self, line: &[u8]) -> bool {
        match self.decode(line) {
            Ok(None) => true,
            Err(reply) => {
                self.shared.queue(&reply);
                true
            }
            Ok(Some(message)) => self.to_rmcp.blocking_send(message).is_ok(),
        }
    }

    /// Reads one line into `self.line`, never buffering more than the limit.
    fn read_line(&mut self) -> std::io::Result<Line> {
        loop {
            let buffer = self.lines.fill_buf()?;
            if buffer.is_empty() {
                return Ok(if self.skipped > 0 {
                    Line::TooLong(std::mem::take(&mut self.skipped))
                } else if self.line.is_empty() {
                    Line::End
                } else {
                    Line::Text
                });
            }
            let (chunk, done) = match memchr::memchr(b'\n', buffer) {
                Some(i) => (&buffer[..i], Some(i + 1)),
                None => (buffer, None),
            };
            if self.skipped > 0 || self.line.len() + chunk.len() > self.limits.max_line_bytes {
                self.skipped += self.line.len() + chunk.len();
                self.line.clear();
                self.line.shrink_to(64 * 1024);
            } else {
                // Past 1 MiB, make room up to the limit at once: growing by doubling would copy
                // the line at each step, and hold two copies at the peak.
                let needed = self.line.len() + chunk.len();
                if needed > self.line.capacity() && needed > 1024 * 1024 {
                    self.line
                        .reserve_exact(self.limits.max_line_bytes - self.line.len());
                }
                self.line.extend_from_slice(chunk);
            }
            let consumed = done.unwrap_or(buffer.len());
            self.lines.consume(consumed);
            if done.is_some() {
                return Ok(if self.skipped > 0 {
                    Line::TooLong(std::mem::take(&mut self.skipped))
                } else {
                    Line::Text
                });
            }
        }
    }

    /// Turns a line into a message: `Ok(None)` for a line that needs no answer (a blank line, a
    /// notification before the session), `Err` with the error answer for a line that is not a
    /// valid message.
    fn decode(&mut self, line: &[u8]) -> Result<Option<ClientJsonRpcMessage>, Vec<u8>> {
        // Most lines are valid JSON in UTF-8: read them as they are. Anything else takes the
        // forgiving path below (invalid UTF-8 replaced, NaN and infinities quoted, blank lines).
        let parsed = serde_json::from_slice::<Value>(line);
        let text = String::from_utf8_lossy(if parsed.is_ok() { &[] } else { line });
        if parsed.is_err() && text.trim().is_empty() {
            return Ok(None);
        }
        let value = match parsed.or_else(|_| serde_json::from_str::<Value>(&text)) {
            Ok(value) => value,
            Err(first) => match repair_non_finite(&text)
                .and_then(|fixed| serde_json::from_str::<Value>(&fixed).ok())
            {
                Some(value) => value,
                None => {
                    let error = ErrorData::new(
                        ErrorCode::PARSE_ERROR,
                        format!("Parse error: the line is not JSON ({first})"),
                        None,
                    );
                    return Err(encode_error(None, error));
                }
            },
        };
        let id = value
            .get("id")
            .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
        let method = value
            .get("method")
            .and_then(Value::as_str)
            .map(|m| clip(m, ECHO_LIMIT).into_owned());
        let envelope_problem = if !value.is_object() {
            Some("a message must be a JSON object (batches are not supported)".to_string())
        } else if value.get("jsonrpc") != Some(&Value::from("2.0")) {
            Some("the `jsonrpc` member must be \"2.0\"".to_string())
        } else if method.is_none() && value.get("result").is_none() && value.get("error").is_none()
        {
            Some("a request needs a string `method`".to_string())
        } else if value.get("id").is_some() && id.is_none() {
            Some("the `id` must be a string or an integer".to_string())
        } else if value
            .get("params")
            .is_some_and(|p| !p.is_object() && !p.is_array())
        {
            Some("`params` must be an object".to_string())
        } else {
            None
        };
        if let Some(problem) = envelope_problem {
            return Err(encode_error(
                id,
                ErrorData::invalid_request(format!("Invalid request: {problem}"), None),
            ));
        }
        let message = serde_json::from_value::<ClientJsonRpcMessage>(value);
        match message {
            Ok(JsonRpcMessage::Request(request)) => self.request(request),
            Ok(message) if !self.session_started => {
                // rmcp's handshake stage ends the session on anything but a request; a stray
                // notification or response from a client is no reason to stop serving it.
                tracing::debug!(
                    ?message,
                    "dropped a message that is not a request before the session began"
                );
                Ok(None)
            }
            Ok(JsonRpcMessage::Notification(notification)) => {
                if let rmcp::model::ClientNotification::CancelledNotification(cancelled) =
                    &notification.notification
                    && let Some(id) = &cancelled.params.request_id
                {
                    self.shared.close_request(id, None);
                }
                Ok(Some(JsonRpcMessage::Notification(notification)))
            }
            Ok(other) => Ok(Some(other)),
            Err(e) => {
                let error = match (&id, &method) {
                    (Some(_), Some(m)) if KNOWN_METHODS.contains(&m.as_str()) => {
                        ErrorData::invalid_params(format!("Invalid params for `{m}`: {e}"), None)
                    }
                    (Some(_), Some(m)) => ErrorData::new(
                        ErrorCode::METHOD_NOT_FOUND,
                        format!("Method not found: `{m}`"),
                        None,
                    ),
                    _ => ErrorData::invalid_request(format!("Invalid request: {e}"), None),
                };
                // A notification is never answered, even when malformed.
                if id.is_some() || method.is_none() {
                    Err(encode_error(id, error))
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// A request rmcp can read: refused here when no handler would take it or its id is in
    /// use, otherwise handed on.
    fn request(
        &mut self,
        request: rmcp::model::JsonRpcRequest<ClientRequest>,
    ) -> Result<Option<ClientJsonRpcMessage>, Vec<u8>> {
        if let ClientRequest::CustomRequest(custom) = &request.request {
            let method = clip(&custom.method, ECHO_LIMIT);
            let error = if KNOWN_METHODS.contains(&custom.method.as_str()) {
                ErrorData::invalid_params(
                    format!(
                        "Invalid params for `{method}`: check its parameters against the specification (e.g. tools/call takes `name` and an object `arguments`)"
                    ),
                    None,
                )
            } else {
                ErrorData::new(
                    ErrorCode::METHOD_NOT_FOUND,
                    format!("Method not found: `{method}`"),
                    None,
                )
            };
            return Err(encode_error(Some(request.id), error));
        }
        match self
            .shared
            .open_request(&request.id, answer_kind(&request.request))
        {
            Ok(true) => {}
            Ok(false) => return Err(duplicate_id(&request.id)),
            // stdout has failed: the reading loop stops at its next turn.
            Err(()) => return Ok(None),
        }
        if !self.session_started && starts_session(&request.request) {
            self.session_started = true;
        }
        Ok(Some(JsonRpcMessage::Request(request)))
    }
}

/// The refusal of a request whose id is still in use by an unanswered one.
fn duplicate_id(id: &RequestId) -> Vec<u8> {
    let message = format!(
        "Invalid request: the id {} is already used by a request that has not been answered yet; ids must be unique",
        clip(&id.to_string(), ECHO_LIMIT)
    );
    encode_error(Some(id.clone()), ErrorData::invalid_request(message, None))
}
/// What a request asks, for the sizes of answers (see `State::answer_sizes`): the tool for a
/// call (a reshard plan is a megabyte, a diagnosis a few kilobytes), else the method.
fn answer_kind(request: &ClientRequest) -> String {
    match request {
        ClientRequest::CallToolRequest(call) => format!("tools/call {}", call.params.name),
        other => other.method().to_string(),
    }
}

/// Whether rmcp leaves its handshake stage on this request: `initialize`, or a request of the
/// handshake-free revision carrying complete `_meta` with a version the server serves (ping
/// and `server/discover` are answered without leaving it).
fn starts_session(request: &ClientRequest) -> bool {
    match request {
        ClientRequest::InitializeRequest(_) => true,
        ClientRequest::PingRequest(_) | ClientRequest::DiscoverRequest(_) => false,
        other => {
            let meta = other.get_meta();
            meta.missing_required_keys(&ProtocolVersion::V_2026_07_28)
                .is_empty()
                && meta
                    .protocol_version()
                    .is_some_and(|version| supported_versions().contains(&version))
        }
    }
}
/// rmcp's side of the transport: messages from the input thread, answers into the queue.
pub struct StdioTransport {
    from_input: mpsc::Receiver<ClientJsonRpcMessage>,
    /// Set when stdin has ended: the time of the last answer since (or of the end itself).
    input_ended: Option<Instant>,
    shared: Arc<Shared>,
    /// The line each answer is written into before it is queued, kept between answers so that
    /// it is not grown again for each one.
    line: Vec<u8>,
}

/// The end of the transport, for `main` once the service has stopped.
pub struct Finish {
    shared: Arc<Shared>,
}

impl Finish {
    /// Lets the last answers reach stdout, as long as the client reads them: gives up once
    /// `stalled` passes with no byte written (a client that stopped reading).
    pub fn flush(self, stalled: Duration) {
        let mut state = self.shared.lock();
        state.ending = true;
        self.shared.to_writer.notify_one();
        let mut written = state.written;
        let mut deadline = Instant::now() + stalled;
        while !state.writer_done {
            if state.written != written {
                written = state.written;
                deadline = Instant::now() + stalled;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    unwritten = state.queued.len() + state.writing,
                    "the client stopped reading; exiting without the last answers"
                );
                return;
            }
            state = self
                .shared
                .to_input
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
/// Starts the transport's two threads on `input` and `output`.
pub fn start<R, W>(input: R, output: W, limits: Limits) -> std::io::Result<(StdioTransport, Finish)>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State::default()),
        to_writer: Condvar::new(),
        to_input: Condvar::new(),
        gone: Notify::new(),
        answered: Notify::new(),
        give_back_on_rmcp: Notify::new(),
        large_since_give_back: AtomicBool::new(false),
    });
    let (to_rmcp, from_input) = mpsc::channel(64);
    let reader = Input {
        lines: BufReader::with_capacity(64 * 1024, input),
        line: Vec::new(),
        skipped: 0,
        session_started: false,
        shared: shared.clone(),
        to_rmcp,
        limits,
    };
    std::thread::Builder::new()
        .name("stdin".into())
        // Decoding a line nested as deep as serde_json allows (128 levels) takes about 300 KiB
        // of stack in a debug build; untouched stack costs no memory.
        .stack_size(1024 * 1024)
        .spawn(move || reader.run())?;
    let writer = shared.clone();
    let output: Box<dyn Write + Send> = Box::new(output);
    std::thread::Builder::new()
        .name("stdout".into())
        .stack_size(64 * 1024)
        .spawn(move || write_loop(&writer, output))?;
    let transport = StdioTransport {
        from_input,
        input_ended: None,
        shared: shared.clone(),
        line: Vec::new(),
    };
    Ok((transport, Finish { shared }))
}

impl Transport<RoleServer> for StdioTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &item {
            JsonRpcMessage::Response(response) => Some(response.id.clone()),
            JsonRpcMessage::Error(error) => error.id.clone(),
            _ => None,
        };
        let mut item = item;
        if let JsonRpcMessage::Error(error) = &mut item
            && error.error.message.len() > MESSAGE_LIMIT
        {
            error.error.message = clip(&error.error.message, MESSAGE_LIMIT)
                .into_owned()
                .into();
        }
        let line = &mut self.line;
        line.clear();
        let sent = if self.shared.is_broken() {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        } else if encode_line(&item, line) {
            self.shared.queue(line);
            Ok(())
        } else {
            Err(std::io::Error::other("an answer could not be serialized"))
        };
        if let Some(id) = answered {
            self.shared
                .close_request(&id, sent.is_ok().then_some(line.len()));
        }
        if line.capacity() > OUTPUT_BUDGET {
            // A large answer's line is not kept for the small ones after it.
            *line = Vec::new();
        }
        std::future::ready(sent)
    }

    /// The next message from stdin; `None` ends rmcp's session. At the end of stdin, `None`
    /// waits until rmcp has answered every request it holds: rmcp stops sending a handler's
    /// notifications once it hears the end (its drain takes only answers), so a handler that
    /// notifies before it answers (a refused call heard at `warning`, the start-up notes of
    /// `logging/setLevel`) would wait on its notification until rmcp gave up on it, and the
    /// client would get neither. Until then rmcp's loop runs as usual and sends both.
    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        // Every branch is cancel-safe: rmcp drops this future whenever another branch wins (a
        // give-back request or an answer left unread then waits as a permit for the next
        // call), and each call looks at the state afresh.
        loop {
            if self.shared.is_broken() {
                return None;
            }
            let last_answer = match self.input_ended {
                Some(last_answer) => {
                    let unanswered = self.shared.unanswered();
                    if unanswered == 0 {
                        return None;
                    }
                    if last_answer.elapsed() >= UNANSWERED_LIMIT {
                        tracing::warn!(
                            unanswered,
                            "stdin ended and requests stayed unanswered; ending the session"
                        );
                        return None;
                    }
                    last_answer
                }
                None => Instant::now(),
            };
            let give_up = tokio::time::Instant::from_std(last_answer + UNANSWERED_LIMIT);
            tokio::select! {
                message = self.from_input.recv(), if self.input_ended.is_none() => match message {
                    Some(message) => return Some(message),
                    None => self.input_ended = Some(Instant::now()),
                },
                () = self.shared.answered.notified(), if self.input_ended.is_some() => {
                    self.input_ended = Some(Instant::now());
                }
                () = tokio::time::sleep_until(give_up), if self.input_ended.is_some() => {}
                () = self.shared.gone.notified() => return None,
                () = self.shared.give_back_on_rmcp.notified() => memory::give_back(),
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Appends `message` as one line of JSON; false (and nothing appended) if it cannot be
/// serialised.
pub(crate) fn encode_line<T: Serialize>(message: &T, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    if serde_json::to_writer(&mut *out, message).is_ok() {
        out.push(b'\n');
        true
    } else {
        out.truncate(start);
        false
    }
}

/// The error answer to a line that never reached the service, as a line of JSON.
fn encode_error(id: Option<RequestId>, mut error: ErrorData) -> Vec<u8> {
    if error.message.len() > MESSAGE_LIMIT {
        error.message = clip(&error.message, MESSAGE_LIMIT).into_owned().into();
    }
    let message = ServerJsonRpcMessage::error(error, id);
    // Serializing an error of strings and integers cannot fail; fall back to a fixed one.
    let mut bytes = serde_json::to_vec(&message).unwrap_or_else(|_| {
        br#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"}}"#.to_vec()
    });
    bytes.push(b'\n');
    bytes
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
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
                let token = &text[start..i];
                let non_finite = matches!(token, "NaN" | "Infinity" | "-Infinity" | "-NaN")
                    || (token
                        .bytes()
                        .next()
                        .is_some_and(|b| b == b'-' || b.is_ascii_digit())
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
        let fixed =
            repair_non_finite(r#"{"a": NaN, "b": "NaN", "c": -Infinity, "d": 1e400, "e": 12}"#)
                .unwrap();
        assert_eq!(
            fixed,
            r#"{"a": "NaN", "b": "NaN", "c": "-Infinity", "d": "1e400", "e": 12}"#
        );
        assert_eq!(repair_non_finite(r#"{"a": 1.5}"#), None);
    }
}

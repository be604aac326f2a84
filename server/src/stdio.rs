//! The stdio transport: newline-delimited JSON-RPC on stdin and stdout, owned here rather than
//! left to the SDK so that the server can keep three promises whatever a client sends:
//! - every line gets an answer: a line that is not a valid message is answered with the
//!   JSON-RPC error the specification names (-32700, -32600, -32601, -32602), never dropped;
//! - memory stays bounded: a line longer than the limit is skipped without being buffered, no
//!   more than `max_in_flight` requests are read ahead of their responses, and reading pauses
//!   while more than `OUTPUT_BUDGET` bytes of answers wait for a client that reads slowly (one
//!   tool answer can be megabytes: a reshard plan's shard map);
//! - stdout carries nothing but protocol messages, written whole and one at a time.
//!
//! Two threads of its own do the I/O, so that a call costs no hop through the runtime:
//! - the input thread reads stdin with blocking reads and decodes each line. Once the session
//!   has begun with `initialize`, it answers a plain `tools/call` itself (the tools are pure
//!   and synchronous) into a buffer of its own, handed to the queue a batch at a time (the
//!   buffer moves, its bytes are not copied); every other message goes to rmcp through a
//!   channel, and rmcp's answers come back through [`Transport::send`] into the same queue;
//! - the writer thread writes the queue in batches: whatever waits when it is told to write,
//!   so a pipelining client gets one write (and one wake-up) for many answers. When the input
//!   runs dry the input thread writes the queue itself, which saves a sequential client the
//!   wake-up of another thread.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use rmcp::RoleServer;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, ErrorCode,
    ErrorData, GetMeta, JsonRpcMessage, JsonRpcRequest, ProtocolVersion, RequestId,
    RequestMetaObject, ServerJsonRpcMessage, ServerResult,
};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::{Notify, mpsc};

/// Methods this server implements; a request for one of them whose params do not fit is
/// answered with "invalid params", any other unknown method with "method not found".
pub(crate) const KNOWN_METHODS: [&str; 15] = [
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

/// Answers one `tools/call` on the input thread: appends the whole JSON-RPC answer line for the
/// request `id` calling the tool `name` with `arguments` to the buffer.
pub type AnswerCall = Box<dyn Fn(&RequestId, &str, &Map<String, Value>, &mut Vec<u8>) + Send>;

/// How long the input thread polls for the next request before it sleeps in `read`. A client
/// that sends its next request as soon as it has read an answer would otherwise find the
/// thread asleep, and waking a sleeping (virtual) CPU takes tens of microseconds, more than a
/// call costs: on a 2-core VM this halves the sequential round trip.
const POLL_BEFORE_SLEEP: Duration = Duration::from_micros(100);

/// Bytes of answers queued for stdout beyond which reading pauses until the client catches up.
const OUTPUT_BUDGET: usize = 128 * 1024;

/// Queued bytes at which the writer thread starts writing without waiting to be told: large
/// enough that a pipelining client is woken once per several answers, small enough that the
/// pipe (64 KiB by default) takes a batch in one write.
const BATCH_BYTES: usize = 48 * 1024;

/// The capacity the queue and the batch being written start with and keep: the budget plus
/// one answer, so that neither grows (and copies itself) under load. After a larger answer
/// (a reshard plan can be a megabyte) a buffer goes back to this size.
const BUFFER_BYTES: usize = OUTPUT_BUDGET + 64 * 1024;

/// The input thread's stack: a tool call runs on it (decoding is depth-limited by serde_json).
const INPUT_STACK_BYTES: usize = 2 * 1024 * 1024;

/// A line or a batch of answers this large (a full reshard plan is half a megabyte) leaves
/// megabytes freed behind it, which the allocator keeps for reuse (mimalloc purges after a
/// second, and only when it next runs).
/// After one, the writer gives memory back at once (`crate::give_back_memory`), so that an
/// idle server stays at its idle size after the largest request and the largest answer.
const LARGE_BYTES: usize = 256 * 1024;

/// The longest text of a client's that an error message repeats (a method or tool name).
const ECHO_LIMIT: usize = 120;

/// The longest error message sent; serde errors may quote a whole (huge) value.
const MESSAGE_LIMIT: usize = 1024;

/// `text` cut to at most `limit` bytes at a character boundary, marked when cut.
pub(crate) fn clip(text: &str, limit: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= limit {
        return text.into();
    }
    let cut = (0..=limit)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}… ({} bytes)", &text[..cut], text.len()).into()
}

/// What the input thread, the writer thread and rmcp's side share.
struct Shared {
    state: Mutex<State>,
    /// Wakes the writer thread: answers to write, or the end.
    to_writer: Condvar,
    /// Wakes the input thread (room to read on) and `finish` (the writer is done).
    to_input: Condvar,
    /// stdout, held by whichever thread writes, so that batches leave whole and in order.
    output: Mutex<Box<dyn Write + Send>>,
    /// Set once the session began with `initialize` on a revision before 2026-07-28 and rmcp
    /// answered it: from then on the input thread answers plain `tools/call` requests itself.
    calls_direct: AtomicBool,
    /// Wakes `receive` when stdout fails, so that rmcp ends while stdin is still open.
    gone: Notify,
    /// A line of more than [`LARGE_BYTES`] was read since memory was last given back: once
    /// its answer is written, the request is gone and its memory can go back to the system.
    large_since_give_back: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Requests handed to rmcp and not answered yet, by id.
    open: HashSet<RequestId>,
    /// Answers waiting to be written, whole lines.
    queued: Vec<u8>,
    /// Bytes being written now.
    writing: usize,
    /// The queued answers should be written now, not when a batch is full.
    flush: bool,
    /// No more answers will be queued: the writer thread leaves once the queue is empty.
    ending: bool,
    /// The writer thread has left.
    writer_done: bool,
    /// Writing to stdout failed: the client has gone.
    broken: bool,
    /// The writer thread waits for work.
    writer_waiting: bool,
    /// The input thread waits for room (see `wait_for_room`).
    input_waiting: bool,
    /// The `initialize` request that began the session, until rmcp answers it.
    initialize: Option<RequestId>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands whole answer lines to the queue: moved, not copied, when nothing else waits (the
    /// usual case); `pending` comes back empty, holding a spare buffer. `now` asks for them to
    /// be written without waiting for a batch (rmcp's answers; the input thread's wait for one).
    fn hand_over(&self, pending: &mut Vec<u8>, now: bool) {
        let mut state = self.lock();
        if state.broken {
            pending.clear();
            return;
        }
        if state.queued.is_empty() {
            std::mem::swap(&mut state.queued, pending);
        } else {
            state.queued.extend_from_slice(pending);
            pending.clear();
        }
        state.flush |= now;
        self.wake_writer(&mut state);
    }

    /// Wakes the writer thread if it waits and there is a batch (or a flush) for it; a wake-up
    /// is a system call, so not one per answer.
    fn wake_writer(&self, state: &mut State) {
        if state.writer_waiting
            && !state.queued.is_empty()
            && (state.flush || state.queued.len() >= BATCH_BYTES)
        {
            state.writer_waiting = false;
            self.to_writer.notify_one();
        }
    }

    /// Records a request handed to rmcp; false when a request with the same id is still
    /// unanswered (rmcp would answer only one of the two).
    fn open_request(&self, id: &RequestId) -> bool {
        self.lock().open.insert(id.clone())
    }

    fn is_open(&self, id: &RequestId) -> bool {
        self.lock().open.contains(id)
    }

    fn close_request(&self, id: &RequestId) {
        if self.lock().open.remove(id) {
            self.to_input.notify_all();
        }
    }

    /// Waits until another request may be read: fewer than `max_in_flight` open and the queue
    /// within its budget. False when stdout has failed.
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
            if !state.queued.is_empty() {
                state.flush = true;
                self.wake_writer(&mut state);
            }
            state.input_waiting = true;
            state = self
                .to_input
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.input_waiting = false;
        }
    }

    /// Writes what is queued, holding `output`; `batch` is the caller's spare buffer, swapped
    /// with the queue. False when stdout failed.
    fn write_queued(&self, output: &mut dyn Write, batch: &mut Vec<u8>) -> bool {
        {
            let mut state = self.lock();
            batch.clear();
            std::mem::swap(&mut state.queued, batch);
            state.writing = batch.len();
            state.flush = false;
        }
        // In pipe-sized pieces, so that reading resumes as soon as the client has taken enough
        // to bring the answers waiting under the budget, not once all of them are written.
        let mut written = true;
        for piece in batch.chunks(64 * 1024) {
            written = output.write_all(piece).is_ok();
            if !written {
                break;
            }
            let mut state = self.lock();
            state.writing -= piece.len();
            if state.input_waiting {
                self.to_input.notify_all();
            }
        }
        written = written && output.flush().is_ok();
        batch.clear();
        let large_batch = batch.capacity() > LARGE_BYTES;
        if batch.capacity() > 2 * BUFFER_BYTES {
            *batch = Vec::with_capacity(BUFFER_BYTES);
        }
        if self.large_since_give_back.swap(false, Ordering::Relaxed) || large_batch {
            crate::give_back_memory();
        }
        let mut state = self.lock();
        state.writing = 0;
        if !written {
            state.broken = true;
            state.queued = Vec::new();
            self.gone.notify_one();
        }
        self.to_input.notify_all();
        written
    }

    /// Writes the queue on the calling thread if no other thread is writing; otherwise asks
    /// the writer thread to write it when it is done.
    fn write_now(&self, batch: &mut Vec<u8>) {
        if self.lock().queued.is_empty() {
            return;
        }
        let output = match self.output.try_lock() {
            Ok(output) => Some(output),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        };
        match output {
            Some(mut output) => {
                self.write_queued(&mut **output, batch);
            }
            None => {
                let mut state = self.lock();
                state.flush = true;
                self.wake_writer(&mut state);
            }
        }
    }

    fn is_broken(&self) -> bool {
        self.lock().broken
    }
}

/// The writer thread: waits for a full batch or a request to write, writes, and leaves when
/// the transport ends (after writing what is queued) or stdout fails.
fn write_loop(shared: &Shared) {
    let mut batch = Vec::with_capacity(BUFFER_BYTES);
    loop {
        {
            let mut state = shared.lock();
            loop {
                if state.broken || (state.ending && state.queued.is_empty()) {
                    state.writer_done = true;
                    shared.to_input.notify_all();
                    return;
                }
                if !state.queued.is_empty()
                    && (state.flush || state.ending || state.queued.len() >= BATCH_BYTES)
                {
                    break;
                }
                state.writer_waiting = true;
                state = shared
                    .to_writer
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                state.writer_waiting = false;
            }
        }
        let mut output = shared.output.lock().unwrap_or_else(PoisonError::into_inner);
        shared.write_queued(&mut **output, &mut batch);
    }
}

/// One line read from stdin.
enum Line {
    Text,
    TooLong(usize),
    End,
}

/// A decoded line that needs handling.
enum Decoded {
    /// For rmcp.
    Message(Box<ClientJsonRpcMessage>),
    /// A `tools/call` the input thread answers itself; `request` is the whole message.
    Call { id: RequestId, request: Value },
}

/// The input thread's side: the reader, the line being read, and the handshake state.
struct Input<R> {
    lines: BufReader<R>,
    /// stdin's file descriptor, to poll for input before sleeping in `read` (none in tests).
    poll_fd: Option<i32>,
    /// The line read so far.
    line: Vec<u8>,
    /// Bytes of the current line skipped because it is over the limit (0 while within it).
    skipped: usize,
    /// Whether rmcp has left its handshake stage. Before that it ends the session on any
    /// message that is not a request, so notifications and responses are dropped until then.
    session_started: bool,
    shared: Arc<Shared>,
    to_rmcp: mpsc::Sender<ClientJsonRpcMessage>,
    answer_call: AnswerCall,
    /// Answers made here (calls, refusals of lines) not yet handed over: appended with no
    /// lock, and handed over a batch at a time.
    pending: Vec<u8>,
    /// The spare buffer for writing on this thread.
    batch: Vec<u8>,
    limits: Limits,
}

/// The pipe capacity asked for on stdin and stdout when they are pipes: the most an
/// unprivileged process may ask (`/proc/sys/fs/pipe-max-size`, 1 MiB by default). With the
/// default 64 KiB, a pipelining client and the server wake each other for every few answers;
/// with more room each side moves more per wake-up. The kernel holds this memory, not us.
const PIPE_BYTES: i32 = 1024 * 1024;

/// Asks for a larger pipe behind `fd`; anything that is not a pipe (a file, a terminal) or a
/// refusal leaves it as it is.
pub fn enlarge_pipe(fd: i32) {
    // SAFETY: F_SETPIPE_SZ takes an int and only changes the pipe's capacity; on a descriptor
    // that is not a pipe it fails with EBADF or EINVAL, which is ignored.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_BYTES);
    }
}

/// Whether input can be read from `fd` without blocking.
fn input_ready(fd: i32) -> bool {
    let mut poll = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll` is one valid pollfd, the count is 1, and a zero timeout never blocks.
    unsafe { libc::poll(&mut poll, 1, 0) > 0 }
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
                    self.pending.extend_from_slice(&reply);
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
            if self.pending.len() >= BATCH_BYTES {
                self.shared.hand_over(&mut self.pending, false);
            }
        }
        // Answers to the last lines leave now; dropping `to_rmcp` then ends rmcp's session.
        self.write_now();
    }

    /// Hands over the pending answers and writes them on this thread unless the writer
    /// thread is writing (then it writes them next).
    fn write_now(&mut self) {
        if !self.pending.is_empty() {
            self.shared.hand_over(&mut self.pending, false);
        }
        self.shared.write_now(&mut self.batch);
    }

    /// Handles one line; false once rmcp has stopped taking messages.
    fn handle(&mut self, line: &[u8]) -> bool {
        match self.decode(line) {
            Ok(None) => true,
            Err(reply) => {
                self.pending.extend_from_slice(&reply);
                true
            }
            Ok(Some(Decoded::Call { id, request })) => {
                let params = &request["params"];
                let name = params["name"].as_str().unwrap_or_default();
                let empty = Map::new();
                let arguments = params
                    .get("arguments")
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                (self.answer_call)(&id, name, arguments, &mut self.pending);
                true
            }
            Ok(Some(Decoded::Message(message))) => self.to_rmcp.blocking_send(*message).is_ok(),
        }
    }

    /// Before sleeping in `read`: the queued answers leave, then the input is polled for a
    /// short while (see `POLL_BEFORE_SLEEP`). With input already waiting, neither happens:
    /// the writer thread writes full batches meanwhile.
    fn before_waiting_for_input(&mut self) {
        let Some(fd) = self.poll_fd else {
            self.write_now();
            return;
        };
        if input_ready(fd) {
            return;
        }
        self.write_now();
        let until = Instant::now() + POLL_BEFORE_SLEEP;
        while !input_ready(fd) && Instant::now() < until {
            std::hint::spin_loop();
        }
    }

    /// Reads one line into `self.line`, never buffering more than the limit.
    fn read_line(&mut self) -> std::io::Result<Line> {
        loop {
            if self.lines.buffer().is_empty() {
                self.before_waiting_for_input();
            }
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
    fn decode(&mut self, line: &[u8]) -> Result<Option<Decoded>, Vec<u8>> {
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
        if let Some(id) = &id
            && self.shared.calls_direct.load(Ordering::Acquire)
            && is_plain_tools_call(&value)
        {
            if self.shared.is_open(id) {
                return Err(duplicate_id(id));
            }
            return Ok(Some(Decoded::Call {
                id: id.clone(),
                request: value,
            }));
        }
        let message = match tools_call(&value, id.as_ref()) {
            Some(request) => Ok(request),
            None => serde_json::from_value::<ClientJsonRpcMessage>(value),
        };
        match message {
            Ok(JsonRpcMessage::Request(request)) => {
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
                if !self.shared.open_request(&request.id) {
                    return Err(duplicate_id(&request.id));
                }
                if !self.session_started && starts_session(&request.request) {
                    self.session_started = true;
                    if matches!(request.request, ClientRequest::InitializeRequest(_)) {
                        self.shared.lock().initialize = Some(request.id.clone());
                    }
                }
                Ok(Some(Decoded::Message(Box::new(JsonRpcMessage::Request(
                    request,
                )))))
            }
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
                    self.shared.close_request(id);
                }
                Ok(Some(Decoded::Message(Box::new(
                    JsonRpcMessage::Notification(notification),
                ))))
            }
            Ok(other) => Ok(Some(Decoded::Message(Box::new(other)))),
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
}

/// The refusal of a request whose id is still in use by an unanswered one.
fn duplicate_id(id: &RequestId) -> Vec<u8> {
    let message = format!(
        "Invalid request: the id {} is already used by a request that has not been answered yet; ids must be unique",
        clip(&id.to_string(), ECHO_LIMIT)
    );
    encode_error(Some(id.clone()), ErrorData::invalid_request(message, None))
}

/// Whether a valid message is a `tools/call` the input thread can answer as rmcp would: a
/// request whose params hold a string `name`, an object `arguments` (or none), and at most a
/// `_meta` without `protocolVersion` (rmcp checks a request that names its revision, and
/// anything else, such as a task, takes its path too).
fn is_plain_tools_call(value: &Value) -> bool {
    let Some(object) = value.as_object() else {
        return false;
    };
    if object.get("method").and_then(Value::as_str) != Some("tools/call")
        || object.contains_key("result")
        || object.contains_key("error")
    {
        return false;
    }
    let Some(params) = object.get("params").and_then(Value::as_object) else {
        return false;
    };
    params.iter().all(|(key, field)| match key.as_str() {
        "name" => field.is_string(),
        "arguments" => field.is_object(),
        "_meta" => field
            .as_object()
            .is_some_and(|meta| !meta.contains_key("protocolVersion")),
        _ => false,
    }) && params.contains_key("name")
}

/// A well-formed `tools/call`, built directly. rmcp reads a request by trying each of its ~20
/// kinds in turn over a buffered copy, which cost about a tenth of a call's CPU; anything
/// unusual here returns None and takes that generic path, which gives the same request or the
/// same error.
fn tools_call(value: &Value, id: Option<&RequestId>) -> Option<ClientJsonRpcMessage> {
    let object = value.as_object()?;
    if object.get("method")?.as_str()? != "tools/call"
        || object.contains_key("result")
        || object.contains_key("error")
    {
        return None;
    }
    let params = object.get("params")?;
    let meta = match params.get("_meta") {
        None => None,
        Some(Value::Object(meta)) => Some(meta.clone()),
        Some(_) => return None,
    };
    let mut params = CallToolRequestParams::deserialize(params).ok()?;
    // As in rmcp's reader, `_meta` travels in the request's extensions, not in its params.
    params.meta = None;
    let mut request = CallToolRequest::new(params);
    if let Some(meta) = meta {
        request.extensions.insert(RequestMetaObject::from(meta));
    }
    Some(JsonRpcMessage::Request(JsonRpcRequest::new(
        id?.clone(),
        ClientRequest::CallToolRequest(request),
    )))
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
                    .is_some_and(|version| crate::handler::supported_versions().contains(&version))
        }
    }
}

/// rmcp's side of the transport: messages from the input thread, answers into the queue.
pub struct StdioTransport {
    from_input: mpsc::Receiver<ClientJsonRpcMessage>,
    shared: Arc<Shared>,
}

/// The end of the transport, for `main` once the service has stopped.
pub struct Finish {
    shared: Arc<Shared>,
}

impl Finish {
    /// Lets the last answers reach stdout, waiting at most `limit` for a client that reads
    /// slowly or not at all.
    pub fn flush_within(self, limit: Duration) {
        let mut state = self.shared.lock();
        state.ending = true;
        self.shared.to_writer.notify_one();
        let deadline = Instant::now() + limit;
        while !state.writer_done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
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

/// Starts the transport's two threads on `input` and `output`. `poll_fd` is the input's file
/// descriptor when it has one (stdin), to poll before sleeping; `answer_call` answers the
/// `tools/call` requests the input thread takes.
pub fn start<R, W>(
    input: R,
    poll_fd: Option<i32>,
    output: W,
    limits: Limits,
    answer_call: AnswerCall,
) -> std::io::Result<(StdioTransport, Finish)>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queued: Vec::with_capacity(BUFFER_BYTES),
            ..State::default()
        }),
        to_writer: Condvar::new(),
        to_input: Condvar::new(),
        output: Mutex::new(Box::new(output)),
        calls_direct: AtomicBool::new(false),
        gone: Notify::new(),
        large_since_give_back: AtomicBool::new(false),
    });
    let (to_rmcp, from_input) = mpsc::channel(64);
    let reader = Input {
        lines: BufReader::with_capacity(64 * 1024, input),
        poll_fd,
        line: Vec::new(),
        skipped: 0,
        session_started: false,
        shared: shared.clone(),
        to_rmcp,
        answer_call,
        pending: Vec::with_capacity(BUFFER_BYTES),
        batch: Vec::with_capacity(BUFFER_BYTES),
        limits,
    };
    std::thread::Builder::new()
        .name("stdin".into())
        .stack_size(INPUT_STACK_BYTES)
        .spawn(move || reader.run())?;
    let writer = shared.clone();
    std::thread::Builder::new()
        .name("stdout".into())
        .stack_size(64 * 1024)
        .spawn(move || write_loop(&writer))?;
    let transport = StdioTransport {
        from_input,
        shared: shared.clone(),
    };
    Ok((transport, Finish { shared }))
}

impl Transport<RoleServer> for StdioTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        // Whether this answers the request that began the session, on a revision whose calls
        // the input thread answers as rmcp would (2026-07-28 adds fields to results).
        let legacy_session = |result: &ServerResult| {
            matches!(result, ServerResult::InitializeResult(init)
                if init.protocol_version.as_str() < ProtocolVersion::V_2026_07_28.as_str())
        };
        let answered = match &item {
            JsonRpcMessage::Response(response) => {
                Some((response.id.clone(), legacy_session(&response.result)))
            }
            JsonRpcMessage::Error(error) => error.id.clone().map(|id| (id, false)),
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
        let mut line = Vec::with_capacity(8 * 1024);
        let sent = if self.shared.is_broken() {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        } else if encode_line(&item, &mut line) {
            self.shared.hand_over(&mut line, true);
            Ok(())
        } else {
            Err(std::io::Error::other("an answer could not be serialized"))
        };
        if let Some((id, legacy_session)) = answered {
            let began = {
                let mut state = self.shared.lock();
                if state.initialize.as_ref() == Some(&id) {
                    state.initialize = None;
                    legacy_session
                } else {
                    false
                }
            };
            if began {
                self.shared.calls_direct.store(true, Ordering::Release);
            }
            self.shared.close_request(&id);
        }
        std::future::ready(sent)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        if self.shared.is_broken() {
            return None;
        }
        // Both branches are cancel-safe: rmcp drops this future whenever another branch wins.
        tokio::select! {
            message = self.from_input.recv() => message,
            () = self.shared.gone.notified() => None,
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

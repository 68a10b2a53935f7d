//! Speech for customers who cannot see the screen: the lane PC's speech engine (`espeak-ng`
//! unless `[accessibility] speech_command` names another), run as a child process on a thread
//! of its own, so the screen never waits for it. Latest wins: a new utterance stops the one
//! being spoken and replaces any still waiting, as a screen reader does when the screen
//! changes. What to say, and when, is the app's business (`app/speech.rs`).

use crate::{market::Lang, sync::lock};
use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Condvar, Mutex},
    time::Duration,
};

/// A speech command: the program and its arguments, `{lang}` and `{text}` filled in per
/// utterance (the text goes on standard input when no argument is `{text}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    words: Vec<String>,
}

impl Engine {
    /// From the configuration's words (`config::speech_words`); `None` when there are none.
    pub fn new(words: Vec<String>) -> Option<Engine> {
        (!words.is_empty()).then_some(Engine { words })
    }

    pub fn program(&self) -> &str {
        self.words.first().map_or("", String::as_str)
    }

    /// Where the program is: a path as given, or the first match on `PATH`. `None`: this lane
    /// PC has no such engine, and the kiosk offers no speech.
    pub fn locate(&self) -> Option<PathBuf> {
        let program = Path::new(self.program());
        if program.components().count() > 1 {
            return is_executable(program).then(|| program.to_path_buf());
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
    }

    /// The process for one utterance, and what to write to its standard input.
    fn command(&self, lang: Lang, text: &str) -> (Command, Option<String>) {
        let mut args = self.words[1..]
            .iter()
            .map(|w| w.replace("{lang}", lang.code()).replace("{text}", text));
        let mut c = Command::new(self.program());
        c.args(args.by_ref());
        let on_stdin = !self.words[1..].iter().any(|w| w.contains("{text}"));
        c.stdin(if on_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        (c, on_stdin.then(|| text.to_string()))
    }
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// What the speaking thread is asked to do.
#[derive(Debug, Default)]
struct Slot {
    /// The next utterance; a newer one replaces it.
    next: Option<(Lang, String)>,
    /// Counts requests, so the thread sees that the one it speaks is out of date.
    generation: u64,
    /// The last `Speaker` is gone: the thread ends.
    closed: bool,
}

#[derive(Debug, Default)]
struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
}

/// Ends the thread when the last `Speaker` goes.
#[derive(Debug)]
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        lock(&self.0.slot).closed = true;
        self.0.wake.notify_all();
    }
}

/// Says things without ever making the caller wait. Clones speak through the same thread.
#[derive(Debug, Clone)]
pub struct Speaker {
    owner: Arc<Owner>,
    program: String,
}

/// How often a speaking thread looks for a newer request while an utterance plays.
const CHECK_EVERY: Duration = Duration::from_millis(20);

impl Speaker {
    /// Starts the speaking thread for `engine`.
    pub fn start(engine: Engine) -> std::io::Result<Speaker> {
        let shared = Arc::new(Shared::default());
        let worker = shared.clone();
        let program = engine.program().to_string();
        std::thread::Builder::new()
            .name("speech".into())
            .spawn(move || speak_loop(&engine, &worker))?;
        Ok(Speaker {
            owner: Arc::new(Owner(shared)),
            program,
        })
    }

    /// The engine's program, for logs and `check`.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// Says `text` in `lang` now: whatever is being said stops.
    pub fn say(&self, lang: Lang, text: impl Into<String>) {
        self.request(Some((lang, text.into())));
    }

    /// Stops speaking, and drops what was waiting.
    pub fn hush(&self) {
        self.request(None);
    }

    fn request(&self, next: Option<(Lang, String)>) {
        let shared = &self.owner.0;
        let mut slot = lock(&shared.slot);
        slot.next = next;
        slot.generation += 1;
        shared.wake.notify_all();
    }
}

/// The speaking thread: waits for a request, runs the engine, and stops it early when a newer
/// request comes.
fn speak_loop(engine: &Engine, shared: &Shared) {
    loop {
        let (lang, text, generation) = {
            let mut slot = lock(&shared.slot);
            loop {
                if slot.closed {
                    return;
                }
                if let Some((lang, text)) = slot.next.take() {
                    break (lang, text, slot.generation);
                }
                slot = shared
                    .wake
                    .wait(slot)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
            }
        };
        let Some(mut child) = spawn(engine, lang, &text) else {
            continue;
        };
        loop {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => {}
            }
            let superseded = {
                let slot = lock(&shared.slot);
                slot.closed || slot.generation != generation
            };
            if superseded {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(CHECK_EVERY);
        }
    }
}

fn spawn(engine: &Engine, lang: Lang, text: &str) -> Option<Child> {
    let (mut command, input) = engine.command(lang, text);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(program = engine.program(), error = %e, "the speech engine did not start");
            return None;
        }
    };
    if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
        // Closing stdin (the drop) tells the engine the text is complete.
        let _ = stdin.write_all(input.as_bytes());
    }
    Some(child)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in engine that writes what it was asked to say, a line per utterance.
    /// It takes `delay` to speak, and writes only once it has spoken to the end.
    fn recorder(dir: &Path, args: &str, delay: &str) -> (Engine, PathBuf) {
        let log = dir.join("said.txt");
        let script = dir.join("say.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nlang=\"$1\"; shift\nif [ $# -gt 0 ]; then t=\"$*\"; else t=$(cat); fi\nsleep {delay}\necho \"$lang|$t\" >> {}\n",
                log.display()
            ),
        )
        .expect("script");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let mut words = vec![script.display().to_string()];
        words.extend(args.split_whitespace().map(str::to_string));
        (Engine::new(words).expect("words"), log)
    }

    fn wait_for(log: &Path, lines: usize) -> Vec<String> {
        for _ in 0..250 {
            let said = std::fs::read_to_string(log).unwrap_or_default();
            if said.lines().count() >= lines {
                return said.lines().map(str::to_string).collect();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the engine was not asked {lines} time(s)");
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiosk-speech-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    }

    #[test]
    fn text_goes_on_stdin_or_in_place_of_text() {
        let dir = scratch("stdin");
        let (engine, log) = recorder(&dir, "{lang}", "0");
        let speaker = Speaker::start(engine).expect("thread");
        speaker.say(Lang::Da, "At betale 353 kroner");
        assert_eq!(wait_for(&log, 1), ["da|At betale 353 kroner"]);

        let dir = scratch("arg");
        let (engine, log) = recorder(&dir, "{lang} {text}", "0");
        let speaker = Speaker::start(engine).expect("thread");
        speaker.say(Lang::Fi, "Maksettavaa");
        assert_eq!(wait_for(&log, 1), ["fi|Maksettavaa"]);
    }

    #[test]
    fn the_latest_request_wins() {
        let dir = scratch("latest");
        let (engine, log) = recorder(&dir, "{lang}", "0.3");
        let speaker = Speaker::start(engine).expect("thread");
        // Asked three times at once: whatever the thread had begun is stopped before it is
        // finished, and only the last is said to the end.
        speaker.say(Lang::Nb, "en");
        speaker.say(Lang::Nb, "to");
        speaker.say(Lang::Nb, "tre");
        assert_eq!(wait_for(&log, 1), ["nb|tre"]);
        std::thread::sleep(Duration::from_millis(500));
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(said.lines().collect::<Vec<_>>(), ["nb|tre"]);
        // Hushed while speaking: nothing more is said.
        speaker.say(Lang::Nb, "fire");
        std::thread::sleep(Duration::from_millis(50));
        speaker.hush();
        std::thread::sleep(Duration::from_millis(500));
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(said.lines().count(), 1, "{said}");
    }

    #[test]
    fn a_missing_engine_is_found_missing() {
        let e = Engine::new(vec!["no-such-speech-engine-here".into()]).expect("words");
        assert_eq!(e.locate(), None);
        let e = Engine::new(vec!["/nonexistent/espeak-ng".into()]).expect("words");
        assert_eq!(e.locate(), None);
        let e = Engine::new(vec!["sh".into()]).expect("words");
        assert!(e.locate().is_some(), "sh is on PATH");
        assert!(Engine::new(Vec::new()).is_none());
    }
}

//! Checks that keep the codebase easy to find one's way in: ARCHITECTURE.md
//! names only paths that exist and names every top-level module; cargo
//! features are read only where an adapter is declared, inside the adapters
//! and in the one wiring file; no source file grows past 400 lines.

use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 400;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Every file and directory under `dir`, as paths relative to it.
fn everything_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(here) = stack.pop() {
        let Ok(entries) = fs::read_dir(&here) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(dir).expect("under dir").to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(entry.file_name().to_str(), Some("node_modules" | "target" | ".git" | "dist")) {
                    stack.push(path);
                }
                found.push(format!("{relative}/"));
            } else {
                found.push(relative);
            }
        }
    }
    found
}

/// The backticked words of `text`.
fn quoted(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// A backticked word that names a file or directory.
fn is_path(word: &str) -> bool {
    const EXTENSIONS: &[&str] = &["rs", "ts", "sh", "py", "toml", "html", "css", "yml", "yaml", "md", "json"];
    let plain = !word.is_empty()
        && !word.starts_with('/')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    let extension =
        word.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext));
    plain && (word.ends_with('/') || extension)
}

/// The code map's sections: the directory each is about, and its bullets
/// (a top-level bullet with the indented ones under it).
fn code_map(architecture: &str) -> Vec<(PathBuf, Vec<String>)> {
    let repo = repo();
    let mut sections: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for line in architecture.lines() {
        if let Some(title) = line.strip_prefix("### ") {
            let root = quoted(title).first().map_or_else(|| repo.clone(), |dir| repo.join(dir));
            sections.push((root, Vec::new()));
        } else if let Some((_, bullets)) = sections.last_mut() {
            if line.starts_with("- ") {
                bullets.push(line.to_owned());
            } else if line.starts_with("  ") {
                if let Some(last) = bullets.last_mut() {
                    last.push('\n');
                    last.push_str(line);
                }
            } else if line.starts_with("## ") {
                break;
            }
        }
    }
    sections
}

#[test]
fn every_path_architecture_names_exists() {
    let repo = repo();
    let architecture = read(&repo.join("ARCHITECTURE.md"));
    let sections = code_map(&architecture);
    assert!(sections.len() >= 4, "the code map has shared/, backend/, frontend/ and Elsewhere");
    let mut missing = Vec::new();
    for (root, bullets) in &sections {
        for bullet in bullets {
            let words = quoted(bullet);
            // A bullet is about the path it starts with; what it names after
            // that may sit anywhere below it.
            let lead = words.first().filter(|w| is_path(w)).copied().unwrap_or("");
            // The directory a bullet is about: the lead itself, or the one
            // holding it.
            let lead_dir = |base: PathBuf| {
                let path = base.join(lead);
                if lead.ends_with('/') { path } else { path.parent().map_or(base, Path::to_path_buf) }
            };
            let bases = [
                lead_dir(root.join("src")),
                lead_dir(root.clone()),
                root.join("src"),
                root.clone(),
                repo.clone(),
            ];
            let below: Vec<String> = if lead.contains('/') {
                [lead_dir(root.join("src")), lead_dir(root.clone())]
                    .iter()
                    .flat_map(|d| everything_under(d))
                    .collect()
            } else {
                Vec::new()
            };
            for word in words.into_iter().filter(|w| is_path(w)) {
                let direct = bases.iter().any(|base| base.join(word).exists());
                let nested = below.iter().any(|path| path == word || path.ends_with(&format!("/{word}")));
                if !direct && !nested {
                    missing.push(format!("{word} (in the bullet on {lead:?} under {})", root.display()));
                }
            }
        }
    }
    assert!(missing.is_empty(), "ARCHITECTURE.md names paths that do not exist:\n{}", missing.join("\n"));
}

#[test]
fn architecture_names_every_top_level_module() {
    let repo = repo();
    let architecture = read(&repo.join("ARCHITECTURE.md"));
    let sections = code_map(&architecture);
    let mut unnamed = Vec::new();
    for krate in ["backend", "frontend", "shared"] {
        let (_, bullets) = sections
            .iter()
            .find(|(root, _)| root.ends_with(krate))
            .unwrap_or_else(|| panic!("no code map section for {krate}/"));
        let named: Vec<&str> = bullets.iter().flat_map(|b| quoted(b)).collect();
        // A crate's top level: its library's modules, and its binary's.
        let roots: Vec<String> = ["src/lib.rs", "src/main.rs"]
            .iter()
            .map(|file| repo.join(krate).join(file))
            .filter(|path| path.exists())
            .map(|path| read(&path))
            .collect();
        for line in roots.iter().flat_map(|text| text.lines()) {
            let declared = line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod "));
            let Some(module) = declared.and_then(|rest| rest.strip_suffix(';')) else { continue };
            let dir = format!("{module}/");
            let file = format!("{module}.rs");
            if !named.iter().any(|word| *word == dir || *word == file) {
                unnamed.push(format!("{krate}/src: {module}"));
            }
        }
    }
    assert!(unnamed.is_empty(), "top-level modules ARCHITECTURE.md does not name:\n{}", unnamed.join("\n"));
}

/// Where a cargo feature may be read: inside an engine's adapter, and in the
/// one file that picks adapters. Anywhere else only on a `mod` line (an
/// adapter, or its tests, declared) — plus the store checks every store
/// must pass, and the binary's allocator.
fn may_read_features(file: &str, next_line: &str) -> bool {
    const ADAPTERS: &[&str] = &["kafka/", "sns/", "store/mongo/", "pipeline/wiring/"];
    const FILES: &[&str] = &["store/tests.rs", "main.rs"];
    let declares_module = next_line.starts_with("mod ") || next_line.starts_with("pub mod ");
    ADAPTERS.iter().any(|dir| file.starts_with(dir)) || FILES.contains(&file) || declares_module
}

#[test]
fn cargo_features_are_read_only_in_adapters_and_the_wiring() {
    let src = repo().join("backend/src");
    let mut stray = Vec::new();
    for path in rust_files(&src) {
        let file = path.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        let text = read(&path);
        let lines: Vec<&str> = text.lines().collect();
        for (n, line) in lines.iter().enumerate() {
            if !(line.contains("cfg(feature") || line.contains("cfg!(feature")) {
                continue;
            }
            let next = lines.get(n + 1).map_or("", |l| l.trim_start());
            if !may_read_features(&file, next) {
                stray.push(format!("backend/src/{file}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        stray.is_empty(),
        "cargo features read outside the adapters and pipeline/wiring/:\n{}",
        stray.join("\n")
    );
}

#[test]
fn the_feature_rule_tells_an_adapter_from_a_stray_read() {
    assert!(may_read_features("kafka/links.rs", "fn x() {}"));
    assert!(may_read_features("pipeline/wiring/mod.rs", "Some(kafka) => {"));
    assert!(may_read_features("lib.rs", "pub mod kafka;"));
    assert!(!may_read_features("gateway/mod.rs", "sns: Option<Endpoint>,"));
    assert!(!may_read_features("metrics/dependencies.rs", "Kafka(KafkaCheck),"));
}

#[test]
fn no_source_file_is_longer_than_400_lines() {
    let repo = repo();
    let dirs = ["backend/src", "backend/tests", "backend/benches", "shared/src", "frontend/src"];
    let mut long = Vec::new();
    for dir in dirs {
        for path in rust_files(&repo.join(dir)) {
            let lines = read(&path).lines().count();
            if lines > MAX_LINES {
                long.push(format!("{}: {lines}", path.strip_prefix(&repo).expect("in repo").display()));
            }
        }
    }
    assert!(long.is_empty(), "files over {MAX_LINES} lines (split them by concern):\n{}", long.join("\n"));
}

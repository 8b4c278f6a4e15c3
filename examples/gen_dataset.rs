//! Writes a realistic site in Carnet's import format, deterministic for a seed:
//!
//!     cargo run --release --example gen_dataset -- --posts 1000 --comments 10000 --seed 1 > site.json
//!
//! ~600-word Markdown posts (headings, lists, links, fenced code, a blockquote),
//! 20 tags (1–4 per post), 3 authors, dates over three years, and comments skewed
//! so that a few posts have 150+ comments. Written as a stream: 100,000 posts and
//! 1,000,000 comments need no more memory than ten.

use std::io::{BufWriter, Write};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 1000)]
    posts: usize,
    #[arg(long, default_value_t = 10000)]
    comments: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const WORDS: &[&str] = &[
    "garden",
    "soil",
    "tomato",
    "seed",
    "rust",
    "memory",
    "thread",
    "server",
    "cache",
    "query",
    "index",
    "river",
    "mountain",
    "coffee",
    "window",
    "evening",
    "morning",
    "season",
    "harvest",
    "compost",
    "pattern",
    "design",
    "system",
    "network",
    "latency",
    "throughput",
    "page",
    "reader",
    "writer",
    "story",
    "letter",
    "journey",
    "bridge",
    "forest",
    "signal",
    "compiler",
    "borrow",
    "lifetime",
    "trait",
    "module",
    "function",
    "closure",
    "iterator",
    "vector",
    "string",
    "slice",
    "kitchen",
    "bread",
    "flour",
    "oven",
    "recipe",
    "spice",
    "market",
    "village",
    "station",
    "train",
    "ticket",
    "winter",
    "summer",
    "autumn",
    "spring",
    "rain",
    "cloud",
    "light",
    "shadow",
    "music",
    "guitar",
    "piano",
    "rhythm",
    "silence",
    "book",
    "chapter",
    "library",
    "notebook",
    "pencil",
    "paper",
    "camera",
    "photo",
    "frame",
    "color",
    "paint",
    "canvas",
    "simple",
    "quiet",
    "bright",
    "careful",
    "patient",
    "steady",
    "gentle",
    "curious",
    "honest",
    "useful",
    "small",
    "large",
    "quickly",
    "slowly",
    "often",
    "rarely",
    "always",
    "today",
    "tomorrow",
    "yesterday",
    "together",
    "alone",
    "nearby",
    "build",
    "measure",
    "plant",
    "water",
    "wait",
    "learn",
    "write",
    "read",
    "listen",
    "walk",
    "cook",
    "share",
    "repair",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "with",
    "for",
    "on",
    "after",
    "before",
    "under",
    "over",
    "between",
    "every",
];

const TAGS: [&str; 20] = [
    "Rust",
    "Gardening",
    "Cooking",
    "Travel",
    "Photography",
    "Music",
    "Books",
    "Databases",
    "Web",
    "Performance",
    "Design",
    "Linux",
    "Writing",
    "Cycling",
    "Coffee",
    "Baking",
    "Hiking",
    "Security",
    "Teaching",
    "Notes",
];

const AUTHORS: [(&str, &str); 3] = [
    ("alice", "Alice Martin"),
    ("bruno", "Bruno Keller"),
    ("chloe", "Chloé Durand"),
];

fn words(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

fn sentence(rng: &mut StdRng) -> String {
    let n = rng.gen_range(8..18);
    let mut s = words(rng, n);
    if let Some(first) = s.get(0..1) {
        s.replace_range(0..1, &first.to_uppercase());
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut StdRng) -> String {
    let n = rng.gen_range(3..6);
    (0..n).map(|_| sentence(rng)).collect::<Vec<_>>().join(" ")
}

/// About 600 words with every kind of block the theme styles.
fn body(rng: &mut StdRng) -> String {
    let mut md = String::new();
    for section in 0..4 {
        let heading = words(rng, 3);
        md.push_str(&format!("## {heading}\n\n"));
        md.push_str(&paragraph(rng));
        md.push_str("\n\n");
        match section {
            0 => {
                for _ in 0..4 {
                    md.push_str(&format!("- {}\n", words(rng, 6)));
                }
                md.push('\n');
            }
            1 => md.push_str("```rust\nfn main() {\n    let items = vec![1, 2, 3];\n    println!(\"{}\", items.len());\n}\n```\n\n"),
            2 => md.push_str(&format!("> {}\n\n", sentence(rng))),
            _ => md.push_str(&format!("Read more on [the {} page](https://example.com/{}).\n\n", words(rng, 1), rng.gen_range(1..999))),
        }
        md.push_str(&paragraph(rng));
        md.push_str("\n\n");
        md.push_str(&paragraph(rng));
        md.push_str("\n\n");
    }
    md
}

fn rfc3339(ts: i64) -> String {
    carnet::ground::dates::rfc3339(ts)
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let out = std::io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    let start = 1_640_995_200; // 2022-01-01
    let span = 3 * 365 * 24 * 3600;

    write!(w, "{{\"format\":\"carnet\",\"version\":1,\"users\":[")?;
    for (i, (username, name)) in AUTHORS.iter().enumerate() {
        let role = if i == 0 { "admin" } else { "author" };
        let user = serde_json::json!({"username": username, "email": format!("{username}@example.com"),
            "display_name": name, "role": role, "password_hash": null, "created_at": rfc3339(start - 86400)});
        write!(w, "{}{}", if i > 0 { "," } else { "" }, user)?;
    }
    write!(w, "],\"tags\":[")?;
    for (i, tag) in TAGS.iter().enumerate() {
        write!(
            w,
            "{}{}",
            if i > 0 { "," } else { "" },
            serde_json::json!({"name": tag, "slug": tag.to_lowercase()})
        )?;
    }
    write!(w, "],\"posts\":[")?;
    for i in 0..args.posts {
        let n_tags = rng.gen_range(1..=4);
        let mut tags: Vec<String> = Vec::new();
        while tags.len() < n_tags {
            // Skewed: the first tags are the most used.
            let t = TAGS[(rng.gen_range(0.0f64..1.0).powi(2) * TAGS.len() as f64) as usize]
                .to_lowercase();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let title = {
            let n = rng.gen_range(3..7);
            let mut t = words(&mut rng, n);
            t.replace_range(0..1, &t[0..1].to_uppercase());
            t
        };
        let published = start + (span as f64 * (i as f64 + 0.5) / args.posts.max(1) as f64) as i64;
        let post = serde_json::json!({"title": title, "slug": format!("post-{i}"), "body_markdown": body(&mut rng),
            "status": "published", "published_at": rfc3339(published), "author": AUTHORS[i % 3].0, "tags": tags});
        write!(w, "{}{}", if i > 0 { "," } else { "" }, post)?;
    }
    write!(
        w,
        "],\"pages\":[{}],\"comments\":[",
        serde_json::json!({"title": "About", "slug": "about", "body_markdown": "About this blog."})
    )?;
    let posts = args.posts.max(1);
    // The last comment on each post, so that replies stay on their parent's post.
    let mut last_on: Vec<Option<usize>> = vec![None; posts];
    for i in 0..args.comments {
        // Skewed: post 0 gets about 2 % of all comments (200+ of 10,000), a few
        // more get 100+, most get a handful.
        let post = ((rng.gen_range(0.0f64..1.0).powf(1.8)) * posts as f64) as usize;
        let parent = match last_on[post] {
            Some(p) if rng.gen_bool(0.3) => serde_json::json!(p),
            _ => serde_json::Value::Null,
        };
        last_on[post] = Some(i);
        let created = start + span + (i as i64) * 7;
        let comment = serde_json::json!({"id": i, "post": format!("post-{post}"), "parent": parent,
            "author_name": format!("Reader {}", i % 997), "author_email": format!("reader{i}@example.net"),
            "body": sentence(&mut rng), "status": "approved", "created_at": rfc3339(created)});
        write!(w, "{}{}", if i > 0 { "," } else { "" }, comment)?;
    }
    writeln!(w, "]}}")?;
    w.flush()
}

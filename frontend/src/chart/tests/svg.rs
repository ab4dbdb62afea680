//! A small reader for the SVG plotters writes: enough to find elements.

use std::collections::HashMap;

use plotters::style::RGBColor;

/// One SVG element: its tag, attributes and text content.
#[derive(Debug)]
pub(super) struct Element {
    pub tag: String,
    pub attrs: HashMap<String, String>,
    pub content: String,
}

impl Element {
    pub fn num(&self, name: &str) -> f64 {
        self.attrs.get(name).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} in {self:?}"))
    }

    pub fn int(&self, name: &str) -> i32 {
        self.num(name) as i32
    }

    pub fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }

    pub fn points(&self) -> Vec<(i32, i32)> {
        let parse = |p: &str| p.split_once(',').map(|(x, y)| (x.parse().expect("x"), y.parse().expect("y")));
        self.attr("points").split_whitespace().filter_map(parse).collect()
    }
}

pub(super) fn parse_svg(svg: &str) -> Vec<Element> {
    svg.split('<')
        .filter(|chunk| !chunk.starts_with('/') && !chunk.is_empty())
        .map(|chunk| {
            let (head, content) = chunk.split_once('>').unwrap_or((chunk, ""));
            let head = head.trim_end_matches('/');
            let (tag, mut rest) = head.split_once(' ').unwrap_or((head, ""));
            let mut attrs = HashMap::new();
            while let Some((key, after)) = rest.split_once("=\"") {
                let (value, tail) = after.split_once('"').expect("closing quote");
                attrs.insert(key.trim().to_owned(), value.to_owned());
                rest = tail;
            }
            Element { tag: tag.to_owned(), attrs, content: content.trim().to_owned() }
        })
        .collect()
}

pub(super) fn hex(color: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", color.0, color.1, color.2)
}

/// The polylines stroked in `color`.
pub(super) fn polylines(elements: &[Element], color: RGBColor) -> Vec<&Element> {
    elements.iter().filter(|e| e.tag == "polyline" && e.attr("stroke") == hex(color)).collect()
}

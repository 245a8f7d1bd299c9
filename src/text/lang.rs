//! Which language a page speaks. The server picks it for each page it renders
//! ([`choose`]: the person's choice in the [`COOKIE`], then `?lang=`, then the browser's
//! `Accept-Language`, then the server's `default_language`), says it in `<html lang>`, and
//! writes it into the page, where the browser reads it back as it hydrates: both render
//! the same words, so nothing flips.

use super::Words;
use serde::{Deserialize, Serialize};

/// The cookie that remembers the language a person picked with the switch (`/lang`).
pub const COOKIE: &str = "duet_lang";

/// Where the language switch goes: `/lang?to=TAG&back=PATH` sets [`COOKIE`] and goes back.
pub const SWITCH_PATH: &str = "/lang";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    /// 简体中文.
    #[serde(rename = "zh-CN", alias = "zh")]
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// Its BCP 47 tag, as `<html lang>` and the cookie have it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a BCP 47 tag asks for, if duet has it: any English, and any Chinese
    /// (a reader of Traditional Chinese reads Simplified better than English).
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::ZhCn)
        } else {
            None
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &super::en::EN,
            Lang::ZhCn => &super::zh::ZH,
        }
    }

    /// The language the switch offers on a page in this one.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::ZhCn,
            Lang::ZhCn => Lang::En,
        }
    }
}

/// The language of a page: the `duet_lang` cookie's, then the `?lang=` query's, then the
/// first in `Accept-Language` (by q-value) that duet has, then `default`.
pub fn choose(
    cookie: Option<&str>,
    query: Option<&str>,
    accept_language: Option<&str>,
    default: Lang,
) -> Lang {
    cookie
        .and_then(Lang::parse)
        .or_else(|| query.and_then(Lang::parse))
        .or_else(|| accept_language.and_then(accepted))
        .unwrap_or(default)
}

/// The most wanted language of an `Accept-Language` header that duet has (RFC 9110
/// §12.5.4: `zh-CN,zh;q=0.9,en;q=0.8`; q=0 means "not this one"; equal q-values keep
/// their order).
fn accepted(header: &str) -> Option<Lang> {
    let mut ranges: Vec<(u16, Lang)> = header
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let lang = Lang::parse(parts.next()?)?;
            let q = parts
                .find_map(|param| {
                    let (key, value) = param.split_once('=')?;
                    key.trim()
                        .eq_ignore_ascii_case("q")
                        .then(|| value.trim().parse::<f32>().ok())?
                })
                .unwrap_or(1.0);
            // Thousandths, as the RFC allows at most three decimals.
            let q = (q.clamp(0.0, 1.0) * 1000.0).round() as u16;
            (q > 0).then_some((q, lang))
        })
        .collect();
    ranges.sort_by_key(|(q, _)| std::cmp::Reverse(*q));
    ranges.first().map(|(_, lang)| *lang)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'h>(header: &'h str, name: &str) -> Option<&'h str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value.trim())
    })
}

/// The language of the page being rendered (on the server: the one the request chose, in
/// the render's context) or shown (in the browser: the one the server wrote into the page).
pub fn current() -> Lang {
    #[cfg(feature = "hydrate")]
    return PAGE.with(std::cell::Cell::get);
    #[cfg(not(feature = "hydrate"))]
    leptos::prelude::use_context::<Lang>().unwrap_or_default()
}

#[cfg(feature = "hydrate")]
thread_local! {
    static PAGE: std::cell::Cell<Lang> = const { std::cell::Cell::new(Lang::En) };
}

/// The browser's page is in `lang` (as the server rendered it), for every word it shows
/// from now on, in components and in the call's handlers alike.
#[cfg(feature = "hydrate")]
pub fn set_page(lang: Lang) {
    PAGE.with(|page| page.set(lang));
}

#[cfg(test)]
mod tests {
    use super::{Lang, choose, cookie_value};

    const EN: Lang = Lang::En;
    const ZH: Lang = Lang::ZhCn;

    #[test]
    fn the_choice_comes_first_then_the_query_then_the_browser_then_the_server() {
        assert_eq!(choose(Some("zh-CN"), Some("en"), Some("en"), EN), ZH);
        assert_eq!(choose(Some("en"), Some("zh-CN"), Some("zh-CN"), ZH), EN);
        assert_eq!(choose(None, Some("zh-CN"), Some("en-US"), EN), ZH);
        assert_eq!(choose(None, Some("en"), Some("zh-CN"), ZH), EN);
        assert_eq!(choose(None, None, Some("zh-CN,zh;q=0.9"), EN), ZH);
        assert_eq!(choose(None, None, None, ZH), ZH);
        assert_eq!(choose(None, None, None, EN), EN);
        // What duet does not have is passed over.
        assert_eq!(choose(Some("fr"), Some("de"), Some("zh"), EN), ZH);
        assert_eq!(choose(Some(""), None, Some("fr-FR, *;q=0.5"), ZH), ZH);
    }

    #[test]
    fn accept_language_goes_by_q_values() {
        let browser = |header| choose(None, None, Some(header), EN);
        assert_eq!(browser("en;q=0.5, zh-CN;q=0.8"), ZH);
        assert_eq!(browser("zh-CN;q=0.5, en;q=0.8"), EN);
        assert_eq!(browser("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.7"), ZH);
        assert_eq!(browser("de, en-GB;q=0.3, zh-Hans-CN;q=0.31"), ZH);
        // Equal q-values keep the header's order.
        assert_eq!(browser("zh-CN, en"), ZH);
        assert_eq!(browser("en-US, zh-CN"), EN);
        // q=0 refuses a language.
        assert_eq!(browser("zh-CN;q=0, fr"), EN);
        assert_eq!(choose(None, None, Some("en;q=0"), ZH), ZH);
        // Spaces and case as browsers send them, and rubbish.
        assert_eq!(browser(" ZH-cn ; Q=0.9 , en ; q=0.1"), ZH);
        assert_eq!(browser("zh;q=abc"), ZH);
        assert_eq!(browser(";;,,="), EN);
    }

    #[test]
    fn tags_and_cookies() {
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.tag()), Some(lang));
            assert_ne!(lang.other(), lang);
        }
        assert_eq!(Lang::parse("zh_CN"), Some(ZH));
        assert_eq!(Lang::parse("english"), None);
        let header = "duet_session=abc; duet_lang=zh-CN;other=1";
        assert_eq!(cookie_value(header, "duet_lang"), Some("zh-CN"));
        assert_eq!(cookie_value(header, "other"), Some("1"));
        assert_eq!(cookie_value(header, "lang"), None);
    }
}

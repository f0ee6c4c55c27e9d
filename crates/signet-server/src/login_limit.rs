//! The login policy: how many passwords may be tried, by whom, how fast.
//!
//! Every login attempt is counted *before* its password is checked, in the database, so
//! the budget holds for parallel attempts and across any number of replicas:
//!
//! - **per account and client address**: [`PER_ADDRESS`], 5 attempts a minute. A window
//!   used up is followed by one twice as long, up to an hour, so one address tries at most
//!   15 passwords in its first five minutes and far fewer after. A successful login
//!   clears its address's count.
//! - **per account, from all addresses**: [`PER_ACCOUNT`], 20 attempts per window of five
//!   minutes, doubling the same way while it is used up. One address alone cannot use it
//!   up (its own budget is smaller), so a guesser at one address never locks the owner out
//!   elsewhere; guessers at many addresses slow down the account's logins for everyone,
//!   which is the price of not letting them guess at Argon2's rate.
//!
//! - **per client address, any account**: [`PER_CLIENT`], 30 attempts a minute, doubling
//!   the same way, so that one address cannot keep the password hashers busy with
//!   made-up accounts (each costs an Argon2 check, to not tell which accounts exist).
//!
//! A refused attempt answers 429 with `Retry-After`. An attempt that could not be checked
//! because the server is busy hashing (503) is given back. Keys are stored hashed.

use std::time::Duration;

use signet_store::Budget;

/// Attempts per account and client address.
pub const PER_ADDRESS: Budget = Budget {
    attempts: 5,
    window: Duration::from_secs(60),
    max_window: Duration::from_secs(3600),
};

/// Attempts per account from all addresses.
pub const PER_ACCOUNT: Budget = Budget {
    attempts: 20,
    window: Duration::from_secs(300),
    max_window: Duration::from_secs(3600),
};

/// Attempts per client address, whatever the account.
pub const PER_CLIENT: Budget = Budget {
    attempts: 30,
    window: Duration::from_secs(60),
    max_window: Duration::from_secs(3600),
};

/// How long a budget's row is kept after its window ended (long enough to remember that
/// the last window was used up).
pub const FORGET_AFTER: Duration = Duration::from_secs(2 * 3600);

fn normalized(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The client as budgets count it: an IPv4 address, or an IPv6 address's /64 (one host
/// is usually given a whole /64, so its addresses must share one budget).
fn client(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// The key of [`PER_ADDRESS`].
pub fn address_key(email: &str, ip: &str) -> String {
    format!("login-address\0{}\0{}", normalized(email), client(ip))
}

/// The key of [`PER_CLIENT`].
pub fn client_key(ip: &str) -> String {
    format!("login-client\0{}", client(ip))
}

/// The key of [`PER_ACCOUNT`].
pub fn account_key(email: &str) -> String {
    format!("login-account\0{}", normalized(email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_spend_the_account_budget_in_one_account_window() {
        // An address's windows: 1 min, then 2, then 4 (used up each time). Within the
        // account's first window it gets at most three windows' worth of attempts.
        let mut at = Duration::ZERO;
        let mut window = PER_ADDRESS.window;
        let mut attempts = 0;
        while at < PER_ACCOUNT.window {
            attempts += PER_ADDRESS.attempts;
            at += window;
            window = (window * 2).min(PER_ADDRESS.max_window);
        }
        assert!(
            attempts < PER_ACCOUNT.attempts,
            "{attempts} attempts from one address in {PER_ACCOUNT:?}"
        );
    }

    #[test]
    fn an_ipv6_64_is_one_client() {
        assert_eq!(
            client_key("2001:db8:1:2::1"),
            client_key("2001:db8:1:2:ffff::9")
        );
        assert_ne!(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
        assert_eq!(client_key("::ffff:192.0.2.7"), client_key("192.0.2.7"));
        assert_ne!(client_key("192.0.2.7"), client_key("192.0.2.8"));
    }

    #[test]
    fn keys_do_not_collide_across_kinds_or_case() {
        assert_eq!(
            address_key(" A@Example.com", "10.0.0.1"),
            address_key("a@example.com", "10.0.0.1")
        );
        assert_ne!(
            address_key("a@example.com", "10.0.0.1"),
            address_key("a@example.com", "10.0.0.2")
        );
        assert_ne!(
            account_key("a@example.com"),
            address_key("a@example.com", "")
        );
    }
}

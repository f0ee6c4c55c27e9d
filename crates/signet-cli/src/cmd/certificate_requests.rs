//! `signet credentials ios csr|import-cer|requests`: Apple distribution certificates whose
//! private key is made on the server and never leaves it. `csr` has the server make the key
//! and writes the certificate signing request here; the `.cer` Apple issues for it goes
//! back with `import-cer`, and the server stores key and certificate as a `.p12`.

use anyhow::Context;
use serde_json::json;
use signet_client::{Metadata, PageRequest};

use crate::{
    cmd::keystore::read_file,
    flags::{ImportCerArgs, RemoteCsrArgs, RequestsArgs},
    output, output_file,
    remote::{Remote, table::Table},
};

/// `signet credentials ios csr`.
pub fn csr(args: &RemoteCsrArgs) -> anyhow::Result<()> {
    output_file::check_writable(&args.csr_out, args.force)?;
    let remote = Remote::connect(&args.remote)?;
    let request = remote.block_on(remote.client.create_certificate_request(
        &remote.org,
        &args.common_name,
        args.email.as_deref(),
    ))?;
    output_file::write_atomic(&args.csr_out, request.csr_pem.as_bytes(), args.force, false)
        .with_context(|| {
            format!(
                "the request {} was made on the server, but its CSR could not be written \
                 (read it again with `signet credentials ios requests --json`)",
                request.id
            )
        })?;
    if args.output.json {
        return output::json(&json!({ "request": request, "csr_file": args.csr_out }));
    }
    println!(
        "Certificate request {} made; the private key (RSA 2048) is kept on the server.\n\
         Wrote the certificate signing request to {}.\n\
         Upload it at developer.apple.com → Certificates, IDs & Profiles → Certificates → +,\n\
         then store the .cer Apple issues with:\n  \
         signet credentials ios import-cer {} --cer <downloaded .cer>",
        request.id,
        args.csr_out.display(),
        request.id
    );
    Ok(())
}

/// `signet credentials ios import-cer`.
pub fn import_cer(args: &ImportCerArgs) -> anyhow::Result<()> {
    let cer = read_file(&args.cer)?;
    let remote = Remote::connect(&args.remote)?;
    let credential = remote.block_on(remote.client.complete_certificate_request(
        &remote.org,
        &args.request,
        &cer,
        args.name.as_deref(),
    ))?;
    if args.output.json {
        return output::json(&credential);
    }
    println!(
        "Stored distribution certificate {} ({}) from request {}.",
        credential.id, credential.name, args.request
    );
    if let Metadata::AppleDistributionCertificate(m) = &credential.metadata {
        let c = &m.certificate;
        println!(
            "  Team:        {}\n  Kind:        {}\n  Subject:     {}\n  Valid until: {}\n  \
             SHA-1:       {}",
            m.team_id,
            format!("{:?}", m.kind).to_lowercase(),
            c.subject,
            c.not_after.date(),
            c.sha1
        );
    }
    println!(
        "Its .p12 and password are kept on the server; an admin can export them with \
         `signet credentials export {}`.",
        credential.id
    );
    Ok(())
}

/// `signet credentials ios requests`.
pub fn list(args: &RequestsArgs) -> anyhow::Result<()> {
    let remote = Remote::connect(&args.remote)?;
    let requests = remote.block_on(remote.client.all(async |page: PageRequest| {
        remote.client.certificate_requests(&remote.org, &page).await
    }))?;
    if args.output.json {
        return output::json(&json!({ "items": requests }));
    }
    if requests.is_empty() {
        println!("No certificate requests.");
        return Ok(());
    }
    let mut t = Table::new(&["ID", "COMMON NAME", "MADE", "STATE"]);
    for r in &requests {
        let state = match (&r.completed_at, &r.credential_id) {
            (Some(at), Some(c)) => format!("completed {} → {c}", output::date_ms(*at)),
            (Some(at), None) => format!("completed {}", output::date_ms(*at)),
            _ => "waiting for Apple's .cer".to_owned(),
        };
        t.row(vec![
            r.id.to_string(),
            r.common_name.clone(),
            output::date_ms(r.created_at),
            state,
        ]);
    }
    print!("{}", t.render());
    Ok(())
}

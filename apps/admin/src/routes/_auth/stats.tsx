import { useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, Link } from '@tanstack/react-router';
import { formatBytes, formatDate } from '../../lib/format';
import { clicksQuery, overviewQuery } from '../../lib/queries';

export const Route = createFileRoute('/_auth/stats')({
  loader: ({ context }) =>
    Promise.all([
      context.queryClient.ensureQueryData(overviewQuery()),
      context.queryClient.ensureQueryData(clicksQuery()),
    ]),
  component: StatsPage,
});

const number = new Intl.NumberFormat();

function Card({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <div className="card">
      <dt>{label}</dt>
      <dd>
        <span className="card-value">{value}</span>
        {detail && <span className="muted small">{detail}</span>}
      </dd>
    </div>
  );
}

function StatsPage() {
  const { data: o } = useSuspenseQuery(overviewQuery());
  const { data: clicks } = useSuspenseQuery(clicksQuery());
  const max = Math.max(1, ...clicks.daily.map((d) => d.clicks));

  return (
    <section aria-labelledby="stats-title">
      <div className="page-head">
        <h1 id="stats-title">Statistics</h1>
        <span className="muted small">Click history as of {formatDate(clicks.as_of)}</span>
      </div>
      <dl className="cards">
        <Card
          label="Users"
          value={number.format(o.users.total)}
          detail={`${o.users.admins} admin${o.users.admins === 1 ? '' : 's'} · ${o.users.blocked} blocked · ${o.users.active_30d} active in 30 days`}
        />
        <Card label="Open sessions" value={number.format(o.sessions_open)} />
        <Card
          label="Files"
          value={number.format(o.files.total)}
          detail={`${o.files.public} public · ${o.files.private} private · ${o.files.expired} expired`}
        />
        <Card
          label="Storage"
          value={formatBytes(o.files.bytes)}
          detail={`${o.uploads_in_progress} uploads in progress`}
        />
        <Card label="Hashtags" value={number.format(o.hashtags)} />
        <Card label="Clicks, 30 days" value={number.format(clicks.total_clicks)} />
      </dl>

      <h2 id="daily-title">Clicks per day</h2>
      {clicks.total_clicks === 0 ? (
        <p className="empty-state">No clicks yet.</p>
      ) : (
        <ol className="bars" aria-labelledby="daily-title">
          {clicks.daily.map((d) => (
            <li key={d.date} title={`${d.date}: ${d.clicks} clicks`}>
              <span className="bar" style={{ height: `${(d.clicks / max) * 100}%` }} />
              <span className="visually-hidden">
                {d.date}: {d.clicks} clicks
              </span>
            </li>
          ))}
        </ol>
      )}

      <div className="two-columns">
        <div>
          <h2>Most clicked files</h2>
          {clicks.top_files.length === 0 ? (
            <p className="empty-state">No clicks yet.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">File</th>
                    <th scope="col">Visibility</th>
                    <th scope="col" className="num">
                      Clicks
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {clicks.top_files.map((f) => (
                    <tr key={f.id}>
                      <th scope="row">
                        <Link to="/files" search={{ owner: f.owner_id }}>
                          {f.name}
                        </Link>
                      </th>
                      <td>{f.is_public ? 'Public' : 'Private'}</td>
                      <td className="num">{number.format(f.clicks)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        <div>
          <h2>Most clicked hashtags</h2>
          {clicks.top_hashtags.length === 0 ? (
            <p className="empty-state">No clicks yet.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Hashtag</th>
                    <th scope="col" className="num">
                      Files
                    </th>
                    <th scope="col" className="num">
                      Clicks
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {clicks.top_hashtags.map((t) => (
                    <tr key={t.name}>
                      <th scope="row">
                        <Link to="/files" search={{ tag: t.name }}>
                          #{t.name}
                        </Link>
                      </th>
                      <td className="num">{t.files}</td>
                      <td className="num">{number.format(t.clicks)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

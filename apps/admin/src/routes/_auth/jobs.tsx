import { useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute } from '@tanstack/react-router';
import { formatDate } from '../../lib/format';
import { jobsQuery } from '../../lib/queries';

export const Route = createFileRoute('/_auth/jobs')({
  loader: ({ context }) => context.queryClient.ensureQueryData(jobsQuery()),
  component: JobsPage,
});

const states = ['running', 'queued', 'scheduled', 'repeating', 'completed', 'failed', 'paused'] as const;

function JobsPage() {
  const { data, isFetching, refetch, dataUpdatedAt } = useSuspenseQuery(jobsQuery());
  return (
    <section aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title">Background jobs</h1>
        <div className="muted small">
          Updated {new Date(dataUpdatedAt).toLocaleTimeString()}{' '}
          <button type="button" onClick={() => refetch()} disabled={isFetching}>
            {isFetching ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Jobs by name and state</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              {states.map((s) => (
                <th key={s} scope="col" className="num">
                  {s[0]?.toUpperCase()}
                  {s.slice(1)}
                </th>
              ))}
              <th scope="col" className="num">
                Total
              </th>
            </tr>
          </thead>
          <tbody>
            {data.jobs.map((j) => (
              <tr key={j.name}>
                <th scope="row">
                  <code>{j.name}</code>
                  <div className="muted small">
                    {j.schedule ? `every ${j.schedule}` : 'on demand'}
                    {!j.known && ' · not defined in this version'}
                  </div>
                </th>
                {states.map((s) => (
                  <td key={s} className={`num ${s === 'failed' && j.failed > 0 ? 'bad' : ''}`}>
                    {j[s]}
                  </td>
                ))}
                <td className="num">{j.total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data.jobs.length === 0 && <p className="empty-state">No jobs are defined.</p>}
      <p className="muted small">Finished one-off jobs are removed from the queue, so their counts return to zero.</p>

      <h2>Recent failures</h2>
      {data.recent_failures.length === 0 ? (
        <p className="empty-state">No failed jobs. </p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Failed</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col">Reason</th>
                <th scope="col">Next try</th>
              </tr>
            </thead>
            <tbody>
              {data.recent_failures.map((f) => (
                <tr key={f.id}>
                  <th scope="row">
                    <code>{f.name}</code>
                  </th>
                  <td>{formatDate(f.failed_at)}</td>
                  <td className="num">{f.fail_count}</td>
                  <td className="reason">{f.fail_reason ?? '—'}</td>
                  <td>{f.next_run_at ? formatDate(f.next_run_at) : 'none'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

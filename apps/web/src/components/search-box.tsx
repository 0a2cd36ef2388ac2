import { type FormEvent, useEffect, useId, useState } from 'react';

export function SearchBox({
  value,
  onSearch,
  label = 'Search files',
}: {
  value: string;
  onSearch: (q: string) => void;
  label?: string;
}) {
  const [text, setText] = useState(value);
  const id = useId();
  useEffect(() => setText(value), [value]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSearch(text.trim());
  };
  return (
    <search className="search-wrap">
      <form className="search" onSubmit={submit}>
        <label htmlFor={id} className="visually-hidden">
          {label}
        </label>
        <input id={id} type="search" placeholder={label} value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
    </search>
  );
}

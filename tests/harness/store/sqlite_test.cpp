#include "harness/common/error.hpp"
#include "harness/store/sqlite.hpp"
#include "tests/harness/temp_dir.hpp"

#include <gtest/gtest.h>

using namespace jenga::harness;
using jenga::harness::test::TempDir;

TEST(Sqlite, ErrorsNameDbSqlAndMessage) {
  TempDir dir;
  const std::string path = dir.file("t.sqlite");
  sqlite::Db db(path);
  try {
    sqlite::Statement st(db, "SELEC nonsense FROM nowhere");
    FAIL();
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find("SELEC nonsense"), std::string::npos) << m;
    EXPECT_NE(m.find("syntax error"), std::string::npos) << m;
  }
  db.exec("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)");
  sqlite::Statement ins(db, "INSERT INTO t (a, b) VALUES (?1, ?2)");
  ins.bind(1, 1).bind(2, "x").run();
  ins.reset();
  ins.bind(1, 1).bind(2, "y");
  try {
    ins.run();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("UNIQUE constraint failed"), std::string::npos) << e.what();
  }
  ins.reset();  // usable again after the failure
  ins.bind(1, 2).bind_null(2);
  EXPECT_THROW(ins.run(), Error);
  ins.reset();
  ins.bind(1, 3).bind(2, std::string_view("")).run();
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t WHERE b = ''"), 1);
  EXPECT_THROW(sqlite::Statement(db, "SELECT 1; SELECT 2"), Error);
  EXPECT_THROW(db.exec("SELECT 1; SELEC 2"), Error);
  EXPECT_THROW(db.query_int("SELECT a FROM t WHERE a = 99"), Error);
}

TEST(Sqlite, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  sqlite::Db db(dir.file("t.sqlite"));
  db.exec("CREATE TABLE t (a INTEGER)");
  {
    sqlite::Transaction tx(db);
    db.exec("INSERT INTO t VALUES (1)");
  }
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t"), 0);
  {
    sqlite::Transaction tx(db);
    db.exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)");
    tx.commit();
  }
  EXPECT_EQ(db.query_int("SELECT count(*) FROM t"), 2);
}

TEST(Sqlite, ColumnsAndNulls) {
  TempDir dir;
  sqlite::Db db(dir.file("t.sqlite"));
  sqlite::Statement st(db, "SELECT 42, 2.5, 'text', NULL");
  ASSERT_TRUE(st.step());
  EXPECT_EQ(st.column_int64(0), 42);
  EXPECT_DOUBLE_EQ(st.column_double(1), 2.5);
  EXPECT_EQ(st.column_text(2), "text");
  EXPECT_TRUE(st.is_null(3));
  EXPECT_EQ(st.column_text(3), "");
  EXPECT_FALSE(st.column_optional_int(3));
  EXPECT_FALSE(st.step());
}
